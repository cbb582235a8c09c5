[playlist]
; written by Winamp
File1=Z:\Music\a.mp3
Title1=Artist A - Song A
Length1=200

File2=Music\b.mp3
Title2=Just A Title
Length2=-1
File3=http://radio.example/stream
NumberOfEntries=3
Version=2
