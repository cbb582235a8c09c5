[playlist]
File1=a.mp3
this line is broken
NumberOfEntries=1
