package tripwire

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
)

// mpegHeader is an MPEG-1 Layer III frame header: 128 kbit/s, 44.1 kHz,
// no padding, so each frame is 417 bytes.
var mpegHeader = []byte{0xFF, 0xFB, 0x90, 0x64}

const mpegFrameLen = 417

// mpegFrames returns n frames: each a header and zeroed side info and
// audio data, as a silent encoder writes them.
func mpegFrames(n int) []byte { return frameRun(mpegHeader, mpegFrameLen, n) }

// frameRun returns n frames of length bytes, each header then zeros.
func frameRun(header []byte, length, n int) []byte {
	var b []byte
	for range n {
		f := make([]byte, length)
		copy(f, header)
		b = append(b, f...)
	}
	return b
}

// id3 returns an ID3v2.3 tag holding one TIT2 (title) frame.
func id3(title string) []byte {
	frame := append([]byte("TIT2"), 0, 0, 0, byte(len(title)+1), 0, 0, 0)
	frame = append(frame, title...)
	size := len(frame)
	tag := []byte{'I', 'D', '3', 3, 0, 0,
		byte(size >> 21 & 0x7F), byte(size >> 14 & 0x7F), byte(size >> 7 & 0x7F), byte(size & 0x7F)}
	return append(tag, frame...)
}

func wavHeader() []byte {
	b := []byte("RIFF\x24\x10\x00\x00WAVEfmt ")
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1) // PCM
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint32(b, 48000)
	b = binary.LittleEndian.AppendUint32(b, 48000*4)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	return binary.LittleEndian.AppendUint32(b, 0x1000)
}

func flacHeader() []byte {
	// fLaC, then the last-block STREAMINFO header (type 0, length 34).
	return append([]byte("fLaC\x80\x00\x00\x22"), make([]byte, 34)...)
}

func oggHeader() []byte {
	b := []byte("OggS\x00\x02")
	b = append(b, make([]byte, 8)...)                 // granule position
	b = append(b, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0) // serial, sequence
	b = append(b, 0, 0, 0, 0, 1, 19)                  // checksum, one segment
	return append(b, "OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00"...)
}

func m4aHeader() []byte {
	return []byte("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00")
}

func jpegHeader() []byte {
	return []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
}

func pngHeader() []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00")
}

// adtsFrames returns n ADTS frames of 32 bytes each (AAC LC, 44.1 kHz,
// stereo).
func adtsFrames(n int) []byte {
	const length = 32
	h := []byte{0xFF, 0xF1, 0x50, 0x80 | byte(length>>11&3), byte(length >> 3 & 0xFF), byte(length&7)<<5 | 0x1F, 0xFC}
	return frameRun(h, length, n)
}

// encrypted returns n random bytes, as encryption leaves a file.
func encrypted(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

const playlist = "#EXTM3U\r\n#EXTINF:215,Artist - Title\r\nD:\\Music\\Track 01.mp3\r\n#EXTINF:190,Other - Song\r\n\\\\studio\\jingles\\ID 3.wav\r\n"

func TestSniffMatches(t *testing.T) {
	withTail := func(head []byte) []byte { return append(head, make([]byte, 4096)...) }
	for _, tc := range []struct {
		name   string
		file   string
		head   []byte
		detail string
	}{
		{"ID3 then frames", "Music/a.mp3", append(id3("Old Title"), mpegFrames(10)...), "ID3v2.3 tag"},
		{"frames only", "Music/a.mp3", mpegFrames(10), "MPEG frame sync at 0"},
		{"zero padding then frames", "Music/a.mp3", append(make([]byte, 3), mpegFrames(10)...), "MPEG frame sync at 3"},
		{"upper-case extension", `Music\A.MP3`, mpegFrames(10), "MPEG frame sync"},
		{"one frame, shorter than a frame", "a.mp3", mpegHeader, "MPEG frame sync at 0"},
		{"WAV", "Jingles/id.wav", withTail(wavHeader()), "RIFF/WAVE"},
		{"RF64 WAV", "Archive/long.wav", append([]byte("RF64\xff\xff\xff\xffWAVEds64"), make([]byte, 64)...), "RF64/WAVE"},
		{"FLAC", "a.flac", withTail(flacHeader()), "fLaC marker"},
		{"FLAC after ID3", "a.flac", append(id3("T"), flacHeader()...), "ID3v2.3 tag"},
		{"Ogg Opus", "a.opus", oggHeader(), "OggS page"},
		{"Ogg Vorbis", "a.ogg", oggHeader(), "OggS page"},
		{"M4A", "a.m4a", withTail(m4aHeader()), `brand "M4A "`},
		{"AAC in MP4", "a.aac", m4aHeader(), "ftyp box"},
		{"ADTS AAC", "a.aac", adtsFrames(20), "ADTS frame sync at 0"},
		{"JPEG", "Covers/front.jpg", withTail(jpegHeader()), "JPEG SOI"},
		{"PNG", "Covers/front.png", withTail(pngHeader()), "PNG signature"},
		{"M3U8", "Playlists/0900.m3u8", []byte(playlist), "UTF-8 text"},
		{"M3U Windows-1252", "Playlists/0900.m3u", []byte("#EXTM3U\r\nD:\\Music\\Caf\xe9 del Mar.mp3\r\n"), "Windows-1252 text"},
		{"UTF-8 cut mid-character", "notes.txt", []byte("Café Crème é")[:len("Café Crème é")-1], "UTF-8 text"},
		{"UTF-16LE with BOM", "Playlists/0900.m3u", utf16LE(playlist), "UTF-16LE text"},
		{"PLS", "a.pls", []byte("[playlist]\nFile1=Track.mp3\nNumberOfEntries=1\nVersion=2\n"), "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Sniff(tc.file, tc.head)
			require.True(t, v.Known, v.Detail)
			require.True(t, v.Matches, v.Detail)
			require.False(t, v.Mismatch())
			require.Contains(t, v.Detail, tc.detail)
		})
	}
}

func TestSniffEncryptedMismatches(t *testing.T) {
	for _, name := range []string{
		"Music/a.mp3", "Jingles/id.wav", "a.flac", "a.ogg", "a.opus", "a.m4a", "a.mp4", "a.aac",
		"Covers/front.jpg", "Covers/front.png", "Playlists/0900.m3u", "Playlists/0900.m3u8", "station.ini", "log.csv",
	} {
		t.Run(name, func(t *testing.T) {
			v := Sniff(name, encrypted(t, HeadSize))
			require.True(t, v.Known)
			require.False(t, v.Matches, v.Detail)
			require.True(t, v.Mismatch())
			require.NotEmpty(t, v.Expected)
			require.Greater(t, v.Entropy, 7.9)
			require.Contains(t, v.Detail, "random-looking")
		})
	}
}

func TestSniffMismatchDetails(t *testing.T) {
	// One valid frame header, then ciphertext where the next frame
	// should start: partial encryption that spared the first bytes.
	head := append(append([]byte{}, mpegHeader...), make([]byte, 4092)...)
	copy(head[4:], bytes.Repeat([]byte{0x5A, 0xC3}, 2046))
	v := Sniff("a.mp3", head)
	require.True(t, v.Mismatch())
	require.Contains(t, v.Detail, "none where the next frame starts (417)")

	v = Sniff("a.wav", []byte("RIFF"))
	require.True(t, v.Mismatch())
	require.Contains(t, v.Detail, "no RIFF/WAVE header")

	v = Sniff("Playlists/0900.m3u", append([]byte("#EXTM3U\r\n"), 0, 1, 2, 3))
	require.True(t, v.Mismatch())
	require.Contains(t, v.Detail, "NUL byte at 9")

	v = Sniff("Playlists/0900.m3u", []byte("#EXTM3U\r\n\x01\x02\x03\x04\x05 track.mp3"))
	require.True(t, v.Mismatch())
	require.Contains(t, v.Detail, "control bytes")

	// A WAV saved with the wrong extension is not MPEG audio.
	v = Sniff("a.mp3", wavHeader())
	require.True(t, v.Mismatch())
	require.Equal(t, "MPEG audio", v.Expected)
	require.Contains(t, v.Detail, "no ID3 tag or MPEG frame sync; starts 52 49 46 46")
}

func TestSniffRetaggedMP3StillMatches(t *testing.T) {
	audio := mpegFrames(8)
	before := Sniff("Music/a.mp3", append(id3("Old Title"), audio...))
	after := Sniff("Music/a.mp3", append(id3("A Much Longer New Title (Radio Edit)"), audio...))
	require.True(t, before.Matches)
	require.True(t, after.Matches, after.Detail)
}

func TestSniffNoOpinion(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		head       []byte
	}{
		{"unknown extension, random", "db/playout.dat", encrypted(t, HeadSize)},
		{"no extension", "Music/README", encrypted(t, 64)},
		{"dot file", "Music/.hidden", encrypted(t, 64)},
		{"ransomware extension", "Music/a.mp3.locked", encrypted(t, 64)},
		{"empty mp3", "Music/a.mp3", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Sniff(tc.file, tc.head)
			require.False(t, v.Known)
			require.False(t, v.Mismatch())
		})
	}
	require.Equal(t, "MPEG audio", Sniff("a.mp3", nil).Expected)
}

func TestEntropy(t *testing.T) {
	require.Zero(t, Entropy(nil))
	require.Zero(t, Entropy(bytes.Repeat([]byte{7}, 100)))
	require.InDelta(t, 1.0, Entropy([]byte{0, 1, 0, 1}), 1e-9)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	require.InDelta(t, 8.0, Entropy(all), 1e-9)
}

func TestExt(t *testing.T) {
	require.Equal(t, ".mp3", Ext("Music/Track.MP3"))
	require.Equal(t, ".locked", Ext(`Music\Track.mp3.locked`))
	require.Equal(t, "", Ext("Music.d/README"))
	require.Equal(t, "", Ext(".profile"))
}
