// Package audio makes real-looking audio for tests of what the appliance
// judges by content (the ransomware tripwire): valid headers and frame
// structure as encoders write them, with noisy payloads so that nothing
// passes for being empty. It imports nothing of the project, so any
// package's tests may use it. Each function is deterministic in its seed
// and safe for concurrent use.
package audio

import (
	"encoding/binary"
	"math/rand/v2"
	"path"
	"strings"
)

// MP3 returns an MP3 of about frames*26 ms: an ID3v2.3 tag with title
// (none when title is ""), then MPEG-1 Layer III frames at 128 kbit/s,
// 44.1 kHz.
func MP3(title string, frames int, seed uint64) []byte {
	const frameLen = 417 // 144 * 128000 / 44100, no padding
	var b []byte
	if title != "" {
		b = ID3(title)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	for range frames {
		f := make([]byte, frameLen)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x64})
		for i := 4; i < frameLen; i++ {
			f[i] = byte(r.Uint32())
		}
		b = append(b, f...)
	}
	return b
}

// ID3 returns an ID3v2.3 tag holding a title (TIT2) and padding, as
// taggers write it.
func ID3(title string) []byte {
	frame := append([]byte("TIT2"), 0, 0, 0, 0, 0, 0, 0)
	frame = append(frame, title...)
	binary.BigEndian.PutUint32(frame[4:8], uint32(1+len(title)))
	body := append(frame, make([]byte, 256)...) // padding
	n := len(body)
	h := []byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	return append(h, body...)
}

// WAV returns a RIFF/WAVE file of 16-bit stereo PCM at 48 kHz holding
// samples sample frames of noise.
func WAV(samples int, seed uint64) []byte {
	data := make([]byte, samples*4)
	r := rand.New(rand.NewPCG(seed, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1) // PCM
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint32(b, 48000)
	b = binary.LittleEndian.AppendUint32(b, 48000*4)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// FLAC returns a FLAC file: the fLaC marker, a STREAMINFO block and size
// bytes of (noise) frames.
func FLAC(size int, seed uint64) []byte {
	b := append([]byte("fLaC\x80\x00\x00\x22"), make([]byte, 34)...)
	r := rand.New(rand.NewPCG(seed, 3))
	for range size {
		b = append(b, byte(r.Uint32()))
	}
	return b
}

// Encrypt returns data as ransomware leaves it: the same length of
// random bytes (a stream cipher's output looks like noise).
func Encrypt(data []byte, seed uint64) []byte {
	out := make([]byte, len(data))
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 0xC0}).Read(out)
	return out
}

// Sized returns a file of about size bytes (at least its format's
// smallest) in the format that name's extension promises: MP3 (and MP2),
// WAV or FLAC. It panics for other extensions: a test must say what it
// writes.
func Sized(name string, size int, seed uint64) []byte {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".mp3", ".mp2":
		return MP3("", max(1, size/417), seed)
	case ".wav":
		return WAV(max(0, size-44)/4, seed)
	case ".flac":
		return FLAC(max(0, size-42), seed)
	default:
		panic("audio.Sized: no format for " + ext)
	}
}
