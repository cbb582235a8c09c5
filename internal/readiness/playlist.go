package readiness

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Playlist is one parsed playlist file. Playlists are plain values.
type Playlist struct {
	// Path is the playlist's share-relative path (forward slashes).
	Path string
	// Entries are its tracks in play order.
	Entries []Entry
	// Err is why the playlist could not be read (a *ParseError when it
	// is not a playlist); Entries is then empty. Parse never sets it;
	// Checker.Read does, so that Check reports the playlist.
	Err error
}

// Entry is one track a playlist names.
type Entry struct {
	// Line is the 1-based line of the path in the file.
	Line int
	// Path is the track's path as the playlist writes it (Windows form).
	Path string
	// Duration is the track's length from #EXTINF or PLS LengthN; 0 when
	// unknown (absent, -1 or unparsable).
	Duration time.Duration
	// Artist and Title come from "#EXTINF:215,Artist - Title" or PLS
	// TitleN; Title holds the whole text when it has no " - ".
	Artist, Title string
}

// ParseError is a playlist that cannot be read as one: binary data or a
// malformed PLS. A playlist with a ParseError is not checked at all, since
// a misread file would check the wrong tracks.
type ParseError struct {
	Line int // 1-based; the line where reading stopped
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads the playlist at share-relative path name from its bytes.
// The format comes from the extension (.pls, .m3u, .m3u8) or, for any
// other name, from the first line ("[playlist]" is PLS, anything else a
// plain list, read like M3U). The text is UTF-8 with or without BOM,
// UTF-16 with BOM (Notepad's "Unicode"), or else Windows-1252, the
// encoding Windows programs write without saying. The error is a
// *ParseError. Parse is safe for concurrent use.
func Parse(name string, data []byte) (*Playlist, error) {
	text := decode(data)
	if line, ok := binaryLine(text); ok {
		return nil, &ParseError{Line: line, Msg: "binary data, not a playlist"}
	}
	lines := splitLines(text)
	var entries []Entry
	var err error
	if isPLS(name, lines) {
		entries, err = parsePLS(lines)
	} else {
		entries = parseM3U(lines)
	}
	if err != nil {
		return nil, err
	}
	return &Playlist{Path: name, Entries: entries}, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decode turns the file's bytes into text (see Parse for the encodings).
func decode(data []byte) string {
	if bytes.HasPrefix(data, utf8BOM) {
		return string(data[len(utf8BOM):])
	}
	if len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		if out, err := dec.Bytes(data); err == nil {
			return string(out)
		}
	}
	if utf8.Valid(data) {
		return string(data)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil { // Windows1252 maps every byte; kept for the contract
		return string(data)
	}
	return string(out)
}

// binaryLine finds the first line holding NUL or another control
// character that no text playlist has (tab, CR and LF are text).
func binaryLine(text string) (int, bool) {
	line := 1
	for _, r := range text {
		switch {
		case r == '\n':
			line++
		case r == '\t' || r == '\r':
		case r < 0x20 || r == 0x7f:
			return line, true
		}
	}
	return 0, false
}

// splitLines splits on LF, dropping a CR before it (CRLF files) and
// surrounding white space.
func splitLines(text string) []string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}

func isPLS(name string, lines []string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".pls":
		return true
	case ".m3u", ".m3u8":
		return false
	}
	for _, l := range lines {
		if l != "" {
			return strings.EqualFold(l, "[playlist]")
		}
	}
	return false
}

// splitArtistTitle splits "Artist - Title" at the first " - ".
func splitArtistTitle(s string) (artist, title string) {
	if a, t, ok := strings.Cut(s, " - "); ok {
		return strings.TrimSpace(a), strings.TrimSpace(t)
	}
	return "", strings.TrimSpace(s)
}

// maxTrackSeconds bounds a believable track length (a day); longer is
// taken as garbage, so it cannot push later entries' air times away.
const maxTrackSeconds = 24 * 60 * 60

// seconds parses a length in seconds ("215", "215.5"); negative, absent
// or malformed is unknown (0).
func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || f > maxTrackSeconds {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
