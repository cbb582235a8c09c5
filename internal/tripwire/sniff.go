package tripwire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// HeadSize is how many leading bytes Sniff looks at; it reads fewer when
// the file is shorter and ignores any beyond.
const HeadSize = 4096

// Verdict is what Sniff says of a file's first bytes.
type Verdict struct {
	// Known says Sniff judged the content: the extension has a rule and
	// there were bytes to judge. An unknown extension or an empty file
	// leaves it false, and then Matches means nothing.
	Known bool
	// Matches says the content is what the extension promises.
	Matches bool
	// Expected names the format the extension promises ("MPEG audio"),
	// empty for an unknown extension.
	Expected string
	// Detail says what was seen, for the alert and the log.
	Detail string
	// Entropy is the Shannon entropy of the bytes judged, in bits per
	// byte (0 to 8); encrypted data is close to 8.
	Entropy float64
}

// Mismatch reports whether the content was judged and fails its format:
// the verdict the tripwire treats as suspicious.
func (v Verdict) Mismatch() bool { return v.Known && !v.Matches }

// rule is one extension's format check: ok with what was seen, or not ok
// with what was missing.
type rule struct {
	expected string
	check    func(head []byte) (ok bool, detail string)
}

var (
	mpegRule = rule{"MPEG audio", checkMPEG}
	textRule = rule{"text", checkText}
	mp4Rule  = rule{"MP4 (ftyp box)", checkFtyp}
)

// rules maps lower-case extensions to their format checks. Extensions not
// listed get no opinion: the tripwire never trips on a format it does not
// know.
var rules = map[string]rule{
	".mp3":  mpegRule,
	".mp2":  mpegRule,
	".wav":  {"RIFF/WAVE", checkWAVE},
	".flac": {"FLAC", checkFLAC},
	".ogg":  {"Ogg", checkOgg},
	".oga":  {"Ogg", checkOgg},
	".opus": {"Ogg", checkOgg},
	".m4a":  mp4Rule,
	".mp4":  mp4Rule,
	".aac":  {"AAC (ADTS or ftyp box)", checkAAC},
	".jpg":  {"JPEG", checkJPEG},
	".jpeg": {"JPEG", checkJPEG},
	".png":  {"PNG", checkPNG},
	".m3u":  textRule,
	".m3u8": textRule,
	".pls":  textRule,
	".txt":  textRule,
	".csv":  textRule,
	".xml":  textRule,
	".json": textRule,
	".ini":  textRule,
	".cfg":  textRule,
}

// Ext returns the lower-case extension of a share-relative name, with its
// dot, or "" when the last segment has none. Both / and \ separate
// segments, so names as Windows clients spell them work too.
func Ext(name string) string {
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	i := strings.LastIndexByte(base, '.')
	if i <= 0 {
		return ""
	}
	return strings.ToLower(base[i:])
}

// Sniff judges whether head, the first bytes of the file at the
// share-relative name (up to HeadSize are used), matches the format its
// extension promises. It is pure and safe for concurrent use.
func Sniff(name string, head []byte) Verdict {
	r, ok := rules[Ext(name)]
	if !ok {
		return Verdict{Detail: "no rule for this extension"}
	}
	if len(head) > HeadSize {
		head = head[:HeadSize]
	}
	v := Verdict{Expected: r.expected}
	if len(head) == 0 {
		v.Detail = "empty file"
		return v
	}
	v.Known = true
	v.Entropy = Entropy(head)
	v.Matches, v.Detail = r.check(head)
	if !v.Matches {
		v.Detail += fmt.Sprintf("; starts % x", head[:min(len(head), 8)])
		v.Detail += fmt.Sprintf("; entropy %.2f bits/byte", v.Entropy)
		// A short sample cannot reach high entropy, so only a full
		// kilobyte or more is called encrypted-looking.
		if len(head) >= 1024 && v.Entropy > 7.5 {
			v.Detail += " (random-looking, as encrypted data)"
		}
	}
	return v
}

// Entropy returns the Shannon entropy of b in bits per byte: 0 for a run
// of one byte value, close to 8 for encrypted or random data.
func Entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// id3Size returns the total length of a valid ID3v2 tag at the start of b
// (header, body and footer) and true, or false when b starts with none.
func id3Size(b []byte) (int, bool) {
	if len(b) < 10 || string(b[:3]) != "ID3" || b[3] == 0xFF || b[4] == 0xFF {
		return 0, false
	}
	size := 0
	for _, c := range b[6:10] {
		if c&0x80 != 0 { // sizes are syncsafe: seven bits a byte
			return 0, false
		}
		size = size<<7 | int(c)
	}
	size += 10
	if b[5]&0x10 != 0 {
		size += 10 // footer
	}
	return size, true
}

// skipZeros returns how many leading zero bytes b has, up to limit:
// encoders and editors leave a little zero padding before the first frame.
func skipZeros(b []byte, limit int) int {
	i := 0
	for i < len(b) && i < limit && b[i] == 0 {
		i++
	}
	return i
}

// mpegBitrates holds the kbit/s of the bitrate index, by [version is
// MPEG-1][layer 1, 2 or 3 as 0, 1, 2]; index 0 (free format) and 15
// (reserved) are not in it.
var mpegBitrates = [2][3][16]int{
	{ // MPEG-2 and 2.5
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
	},
	{ // MPEG-1
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	},
}

// mpegRates holds the sample rates in Hz by version bits (0 MPEG-2.5,
// 2 MPEG-2, 3 MPEG-1; 1 is reserved) and sample-rate index (3 reserved).
var mpegRates = [4][3]int{
	{11025, 12000, 8000},
	{},
	{22050, 24000, 16000},
	{44100, 48000, 32000},
}

// mpegFrame parses an MPEG audio frame header at the start of b and
// returns the frame's length in bytes, or 0 when b starts with none. Free
// format (bitrate index 0) is refused: it is rare and lets random bytes
// pass too easily.
func mpegFrame(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0
	}
	version := int(b[1]>>3) & 3
	layerBits := int(b[1]>>1) & 3
	bitrateIdx := int(b[2] >> 4)
	rateIdx := int(b[2]>>2) & 3
	if version == 1 || layerBits == 0 || rateIdx == 3 {
		return 0
	}
	layer := 4 - layerBits // 1, 2 or 3
	mpeg1 := 0
	if version == 3 {
		mpeg1 = 1
	}
	kbps := mpegBitrates[mpeg1][layer-1][bitrateIdx]
	if kbps == 0 {
		return 0
	}
	rate := mpegRates[version][rateIdx]
	padding := int(b[2]>>1) & 1
	switch {
	case layer == 1:
		return (12*kbps*1000/rate + padding) * 4
	case layer == 3 && mpeg1 == 0:
		return 72*kbps*1000/rate + padding
	default:
		return 144*kbps*1000/rate + padding
	}
}

// checkMPEG accepts an ID3v2 tag, or an MPEG audio frame header after at
// most a little zero padding whose next frame, when it falls within b,
// starts with a header too: two frames in a row do not happen by chance.
func checkMPEG(b []byte) (bool, string) {
	if _, ok := id3Size(b); ok {
		return true, fmt.Sprintf("ID3v2.%d tag", b[3])
	}
	ok, detail := frames(b, "MPEG", 4, mpegFrame)
	if detail == "" {
		detail = "no ID3 tag or MPEG frame sync"
	}
	return ok, detail
}

// frames accepts a frame header, as frame parses it, after at most a
// little zero padding, when the next frame (if it falls within b) starts
// with a header too. It returns an empty detail when b has no header at
// all, for the caller to say what else it looked for.
func frames(b []byte, format string, headerLen int, frame func([]byte) int) (bool, string) {
	i := skipZeros(b, 512)
	n := frame(b[i:])
	if n == 0 {
		return false, ""
	}
	if next := i + n; next+headerLen <= len(b) && frame(b[next:]) == 0 {
		return false, fmt.Sprintf("%s frame header at %d but none where the next frame starts (%d)", format, i, next)
	}
	return true, fmt.Sprintf("%s frame sync at %d", format, i)
}

// adtsFrame parses an AAC ADTS header at the start of b and returns the
// frame length, or 0 when b starts with none.
func adtsFrame(b []byte) int {
	if len(b) < 7 || b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
		return 0
	}
	if int(b[2]>>2)&0xF > 12 { // sampling-frequency index 13-15 reserved
		return 0
	}
	n := int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5)
	if n < 7 {
		return 0
	}
	return n
}

// checkAAC accepts an MP4 container, an ID3v2 tag (common on raw AAC) or
// an ADTS header whose next frame, when within b, starts with one too.
func checkAAC(b []byte) (bool, string) {
	if ok, detail := checkFtyp(b); ok {
		return true, detail
	}
	if _, ok := id3Size(b); ok {
		return true, fmt.Sprintf("ID3v2.%d tag", b[3])
	}
	ok, detail := frames(b, "ADTS", 7, adtsFrame)
	if detail == "" {
		detail = "no ftyp box, ID3 tag or ADTS frame sync"
	}
	return ok, detail
}

// checkFtyp accepts an ISO base media file: an ftyp box first, with a
// plausible size and a printable major brand.
func checkFtyp(b []byte) (bool, string) {
	if len(b) < 12 || string(b[4:8]) != "ftyp" {
		return false, "no ftyp box at offset 4"
	}
	if size := binary.BigEndian.Uint32(b[:4]); size < 12 || size > 4096 {
		return false, fmt.Sprintf("ftyp box of implausible size %d", size)
	}
	for _, c := range b[8:12] {
		if c < 0x20 || c > 0x7E {
			return false, "ftyp box with an unprintable brand"
		}
	}
	return true, fmt.Sprintf("ftyp box, brand %q", b[8:12])
}

// checkWAVE accepts RIFF/WAVE and its 64-bit forms RF64 and BW64, which
// broadcast WAV files over 4 GiB use.
func checkWAVE(b []byte) (bool, string) {
	if len(b) < 12 || string(b[8:12]) != "WAVE" {
		return false, "no RIFF/WAVE header"
	}
	switch string(b[:4]) {
	case "RIFF", "RF64", "BW64":
		return true, string(b[:4]) + "/WAVE header"
	}
	return false, "no RIFF/WAVE header"
}

// checkFLAC accepts the fLaC marker, or an ID3v2 tag some taggers put
// before it.
func checkFLAC(b []byte) (bool, string) {
	if n, ok := id3Size(b); ok {
		if n+4 <= len(b) && !bytes.HasPrefix(b[n:], []byte("fLaC")) {
			return false, fmt.Sprintf("ID3v2 tag but no fLaC marker after it (%d)", n)
		}
		return true, fmt.Sprintf("ID3v2.%d tag", b[3])
	}
	if bytes.HasPrefix(b, []byte("fLaC")) {
		return true, "fLaC marker"
	}
	return false, "no fLaC marker"
}

// checkOgg accepts an Ogg page header of stream structure version 0.
func checkOgg(b []byte) (bool, string) {
	if len(b) >= 5 && string(b[:4]) == "OggS" && b[4] == 0 {
		return true, "OggS page"
	}
	return false, "no OggS page header"
}

func checkJPEG(b []byte) (bool, string) {
	if bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) {
		return true, "JPEG SOI marker"
	}
	return false, "no JPEG SOI marker"
}

func checkPNG(b []byte) (bool, string) {
	if bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return true, "PNG signature"
	}
	return false, "no PNG signature"
}

// maxControlShare is the largest share of control characters text may
// have: real playlists and configs have next to none, random bytes about
// one in ten.
const maxControlShare = 0.01

// checkText accepts UTF-16 with a BOM, and UTF-8 or Windows-1252 without
// NUL bytes, in each case with few control characters besides tab, line
// feed, carriage return and form feed.
func checkText(b []byte) (bool, string) {
	if len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		return checkUTF16(b)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return false, fmt.Sprintf("binary: NUL byte at %d", i)
	}
	enc := "UTF-8"
	if !utf8.Valid(trimPartialRune(b)) {
		enc = "Windows-1252"
	}
	control := 0
	for _, c := range b {
		if isControl(rune(c)) || enc == "Windows-1252" && undefined1252(c) {
			control++
		}
	}
	if share := float64(control) / float64(len(b)); share > maxControlShare {
		return false, fmt.Sprintf("binary: %.0f%% control bytes", share*100)
	}
	return true, enc + " text"
}

// checkUTF16 judges text after a UTF-16 byte-order mark.
func checkUTF16(b []byte) (bool, string) {
	order, name := binary.ByteOrder(binary.LittleEndian), "UTF-16LE"
	if b[0] == 0xFE {
		order, name = binary.BigEndian, "UTF-16BE"
	}
	units := make([]uint16, 0, len(b)/2)
	for i := 2; i+1 < len(b); i += 2 {
		units = append(units, order.Uint16(b[i:]))
	}
	if len(units) == 0 {
		return true, name + " text"
	}
	bad := 0
	for _, r := range utf16.Decode(units) {
		if r == 0 || r == utf8.RuneError || isControl(r) {
			bad++
		}
	}
	// The last unit may be half a surrogate pair cut off by the head.
	if share := float64(max(bad-1, 0)) / float64(len(units)); share > maxControlShare {
		return false, fmt.Sprintf("binary after the %s BOM: %.0f%% control or invalid units", name, share*100)
	}
	return true, name + " text"
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b,
// where the head may cut a character in two.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return b
		}
		if c >= 0xC0 { // a lead byte: complete only if its sequence fits
			if n := utf8LeadLen(c); n > i {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

func utf8LeadLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	default:
		return 2
	}
}

// isControl reports a C0 control or DEL other than the whitespace text
// uses.
func isControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r', '\f':
		return false
	}
	return r < 0x20 || r == 0x7F
}

// undefined1252 reports the bytes Windows-1252 leaves unassigned.
func undefined1252(c byte) bool {
	return c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D
}
