package keymap

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// keyCase is one key or path and the reason it is refused ("" for accepted).
// The same cases seed FuzzLocalPath and FuzzKey.
type keyCase struct {
	name   string
	key    string
	reason Reason
}

func seg(n int) string { return strings.Repeat("x", n) }

var keyCases = []keyCase{
	// Benign: accepted as they are.
	{"plain", "a.mp3", ""},
	{"nested", "Music/Rock/Song.mp3", ""},
	{"german", "Musik/Über große Dateien.flac", ""},
	{"japanese", "日本語/曲.mp3", ""},
	{"emoji", "Jingles 🎵/🎶 mix \u2764\ufe0f.mp3", ""},
	{"emoji zwj sequence", "Family 👨\u200d👩\u200d👧.mp3", ""},
	{"persian zwnj", "فارسی\u200cنامه.mp3", ""},
	{"flag", "Länder/🇩🇪.mp3", ""},
	{"decomposed accent", "Cafe\u0301.mp3", ""},
	{"spaces inside", "Morning Show/Top of the hour.wav", ""},
	{"leading space", " leading.mp3", ""},
	{"double dot inside", "a..b.mp3", ""},
	{"leading dots", "..a", ""},
	{"hidden dot file", ".hidden", ""},
	{"punctuation", "Ads/#1 & 100% (live) [edit] {v2} ~$'`!@^=+,;.mp3", ""},
	{"tilde dollar", "~$report.docx", ""},
	{"console is not con", "console.mp3", ""},
	{"con prefix", "CONSOLE", ""},
	{"con suffix", "icon.png", ""},
	{"com10", "com10.mp3", ""},
	{"com0", "COM0.mp3", ""},
	{"lpt without digit", "lpt.mp3", ""},
	{"com1 with letter", "COM1x.mp3", ""},
	{"auxiliary", "auxiliary.wav", ""},
	{"nul with dash", "nul-file", ""},
	{"device as extension", "song.con", ""},
	{"device after underscore", "CON_.mp3", ""},
	{"clock dollar", "CLOCK$", ""},
	{"genesissync without dot", "genesissync.mp3", ""},
	{"genesissync inside", "x.genesissync", ""},
	{"genesis short", ".genesis", ""},
	{"nbsp at end", "a\u00a0", ""},
	{"ideographic space at end", "曲\u3000", ""},
	{"replacement char", "broken \ufffd name.mp3", ""},
	{"private use", "a\ue000b", ""},
	{"variation selector", "a\ufe0fb", ""},
	{"dollar mft", "$MFT", ""},
	{"deep", "a/b/c/d/e/f/g/h.mp3", ""},
	{"segment 255", seg(255), ""},
	{"segment 255 multibyte", strings.Repeat("日", 85), ""},
	{"key 1024", strings.Repeat(seg(99)+"/", 10) + seg(24), ""},

	// Hostile or unrepresentable: refused.
	{"empty", "", ReasonEmpty},
	{"too long", strings.Repeat(seg(99)+"/", 10) + seg(25), ReasonTooLong},
	{"too long dots", strings.Repeat("../", 400), ReasonTooLong},
	{"absolute", "/etc/passwd", ReasonAbsolute},
	{"root", "/", ReasonAbsolute},
	{"double slash root", "//server/share", ReasonAbsolute},
	{"dotdot", "..", ReasonDotSegment},
	{"dot", ".", ReasonDotSegment},
	{"dotdot first", "../etc/passwd", ReasonDotSegment},
	{"dotdot escape", "a/../../etc/passwd", ReasonDotSegment},
	{"dotdot last", "a/..", ReasonDotSegment},
	{"dot inside", "a/./b", ReasonDotSegment},
	{"empty segment", "a//b", ReasonEmptySegment},
	{"backslash", `a\b`, ReasonBackslash},
	{"backslash dotdot", `..\..\Windows\win.ini`, ReasonBackslash},
	{"backslash unc", `\\server\share`, ReasonBackslash},
	{"nul", "a\x00b", ReasonNUL},
	{"nul alone", "\x00", ReasonNUL},
	{"nul after dotdot check", "a\x00/../b", ReasonNUL},
	{"soh", "a\x01b", ReasonControlChar},
	{"newline", "a\nb.mp3", ReasonControlChar},
	{"log forging", "ok.mp3\n2024-01-01 INFO all synced", ReasonControlChar},
	{"carriage return", "a\rb", ReasonControlChar},
	{"tab", "a\tb", ReasonControlChar},
	{"escape", "\x1b[31mred.mp3", ReasonControlChar},
	{"del", "a\x7f", ReasonControlChar},
	{"c1 nel", "a\u0085b", ReasonControlChar},
	{"c1 csi", "a\u009b31mb", ReasonControlChar},
	{"line separator", "a\u2028b", ReasonControlChar},
	{"paragraph separator", "a\u2029b", ReasonControlChar},
	{"rlo", "song\u202e3pm.exe", ReasonFormatChar},
	{"lro", "a\u202db", ReasonFormatChar},
	{"isolate", "a\u2066b\u2069", ReasonFormatChar},
	{"lrm", "a\u200eb", ReasonFormatChar},
	{"zero width space", "a\u200bb", ReasonFormatChar},
	{"word joiner", "a\u2060b", ReasonFormatChar},
	{"bom", "\ufeffsong.mp3", ReasonFormatChar},
	{"soft hyphen", "a\u00adb", ReasonFormatChar},
	{"tag character", "a\U000e0041b", ReasonFormatChar},
	{"hangul filler", "\u3164", ReasonFormatChar},
	{"halfwidth hangul filler", "a\uffa0.mp3", ReasonFormatChar},
	{"combining grapheme joiner", "a\u034fb", ReasonFormatChar},
	{"arabic letter mark", "a\u061cb", ReasonFormatChar},
	{"invalid byte", "\xff", ReasonInvalidUTF8},
	{"overlong slash", "a\xc0\xafb", ReasonInvalidUTF8},
	{"overlong dotdot", "\xc0\xae\xc0\xae/x", ReasonInvalidUTF8},
	{"surrogate", "a\xed\xa0\x80", ReasonInvalidUTF8},
	{"truncated", "a\xe2\x82", ReasonInvalidUTF8},
	{"latin1", "M\xfcller.mp3", ReasonInvalidUTF8},
	{"segment 256", seg(256), ReasonSegmentTooLong},
	{"segment 258 multibyte", "dir/" + strings.Repeat("日", 86), ReasonSegmentTooLong},
	{"less than", "a<b", ReasonWindowsIllegalChar},
	{"greater than", "a>b", ReasonWindowsIllegalChar},
	{"colon", "a:b", ReasonWindowsIllegalChar},
	{"drive", "C:/Windows", ReasonWindowsIllegalChar},
	{"stream", "song.mp3:Zone.Identifier", ReasonWindowsIllegalChar},
	{"quote", `a"b`, ReasonWindowsIllegalChar},
	{"pipe", "a|b", ReasonWindowsIllegalChar},
	{"question", "what?.mp3", ReasonWindowsIllegalChar},
	{"star", "*.mp3", ReasonWindowsIllegalChar},
	{"trailing dot", "a.", ReasonTrailingDotOrSpace},
	{"trailing space", "a.mp3 ", ReasonTrailingDotOrSpace},
	{"three dots", "...", ReasonTrailingDotOrSpace},
	{"dotdot space", ".. ", ReasonTrailingDotOrSpace},
	{"space", " ", ReasonTrailingDotOrSpace},
	{"dir trailing dot", "a/b./c", ReasonTrailingDotOrSpace},
	{"dir trailing space", "Jingles /x.mp3", ReasonTrailingDotOrSpace},
	{"reserved prefix", ".genesissync", ReasonReservedPrefix},
	{"reserved temp", "Music/.genesissync-tmp-123", ReasonReservedPrefix},
	{"reserved mixed case", ".GenesisSync.trash/x.mp3", ReasonReservedPrefix},
	{"reserved upper", "a/.GENESISSYNC", ReasonReservedPrefix},
	{"reserved long s", ".genesi\u017fsync", ReasonReservedPrefix},
	{"con", "CON", ReasonWindowsReservedName},
	{"con lower", "con", ReasonWindowsReservedName},
	{"con ext", "con.mp3", ReasonWindowsReservedName},
	{"aux double ext", "Aux.tar.gz", ReasonWindowsReservedName},
	{"nul", "nul", ReasonWindowsReservedName},
	{"nul txt", "NUL.txt", ReasonWindowsReservedName},
	{"prn", "Prn", ReasonWindowsReservedName},
	{"com1", "COM1", ReasonWindowsReservedName},
	{"com9 ext", "com9.wav", ReasonWindowsReservedName},
	{"lpt1", "LPT1", ReasonWindowsReservedName},
	{"lpt9 ext", "lpt9.mp3", ReasonWindowsReservedName},
	{"com superscript 1", "COM\u00b9", ReasonWindowsReservedName},
	{"com superscript 2", "com\u00b2.mp3", ReasonWindowsReservedName},
	{"com superscript 3", "Com\u00b3", ReasonWindowsReservedName},
	{"lpt superscript 1", "LPT\u00b9.txt", ReasonWindowsReservedName},
	{"lpt superscript 3", "lpt\u00b3", ReasonWindowsReservedName},
	{"con space ext", "CON .mp3", ReasonWindowsReservedName},
	{"conin", "CONIN$", ReasonWindowsReservedName},
	{"conout ext", "conout$.txt", ReasonWindowsReservedName},
	{"device directory", "dir/CON/x.mp3", ReasonWindowsReservedName},
}

func TestLocalPathAndKey(t *testing.T) {
	for _, tc := range keyCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, fn := range []struct {
				name string
				f    func(string) (string, error)
			}{{"LocalPath", LocalPath}, {"Key", Key}} {
				got, err := fn.f(tc.key)
				if tc.reason == "" {
					require.NoError(t, err, fn.name)
					require.Equal(t, tc.key, got, fn.name)
					continue
				}
				require.Empty(t, got, fn.name)
				var re *RefusedError
				require.ErrorAs(t, err, &re, fn.name)
				require.Equal(t, tc.reason, re.Reason, "%s: %v", fn.name, err)
				require.Equal(t, tc.key, re.Key, fn.name)
			}
		})
	}
}

func TestDirMarker(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    string
		reason Reason // "" means a valid marker
	}{
		{"top", "Music/", ""},
		{"nested", "Music/Über/", ""},
		{"root", "/", ReasonAbsolute},
		{"dotdot", "../", ReasonDotSegment},
		{"dotdot nested", "a/../", ReasonDotSegment},
		{"double slash", "a//", ReasonEmptySegment},
		{"device", "CON/", ReasonWindowsReservedName},
		{"trailing dot", "a./", ReasonTrailingDotOrSpace},
		{"reserved", ".genesissync-trash/", ReasonReservedPrefix},
		{"control", "a\n/", ReasonControlChar},
		{"too long", seg(200) + "/" + seg(200) + "/" + seg(200) + "/" + seg(200) + "/" + seg(200) + "/" + seg(20) + "/", ReasonTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LocalPath(tc.key)
			require.Empty(t, got)
			if tc.reason == "" {
				require.ErrorIs(t, err, ErrDirMarker)
				require.Contains(t, err.Error(), tc.key)
			} else {
				var re *RefusedError
				require.ErrorAs(t, err, &re)
				require.Equal(t, tc.reason, re.Reason, "%v", err)
				require.NotErrorIs(t, err, ErrDirMarker)
			}
			// Share paths never end in "/": Key refuses them, never as a marker.
			_, err = Key(tc.key)
			var re *RefusedError
			require.ErrorAs(t, err, &re)
			require.NotErrorIs(t, err, ErrDirMarker)
			if tc.reason == "" {
				require.Equal(t, ReasonEmptySegment, re.Reason)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		reason Reason
	}{
		{"plain", "Song.mp3", ""},
		{"conflict name", "Song (conflict 2024-05-01 studio-a).mp3", ""},
		{"unicode", "Über große Dateien.flac", ""},
		{"empty", "", ReasonEmptySegment},
		{"slash", "a/b", ReasonSlash},
		{"leading slash", "/a", ReasonSlash},
		{"dotdot", "..", ReasonDotSegment},
		{"backslash", `a\b`, ReasonBackslash},
		{"control", "a\tb", ReasonControlChar},
		{"format", "a\u202eb", ReasonFormatChar},
		{"long", seg(256), ReasonSegmentTooLong},
		{"trailing dot", "a.", ReasonTrailingDotOrSpace},
		{"reserved", ".genesissync.tmp", ReasonReservedPrefix},
		{"device", "lpt\u00b2.mp3", ReasonWindowsReservedName},
		{"illegal", "a?b", ReasonWindowsIllegalChar},
		{"invalid", "\xfe", ReasonInvalidUTF8},
		{"nul", "\x00", ReasonNUL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.in)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			var re *RefusedError
			require.ErrorAs(t, err, &re)
			require.Equal(t, tc.reason, re.Reason, "%v", err)
			require.Equal(t, tc.in, re.Key)
		})
	}
}

func TestRefusedErrorString(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
		want string
	}{
		{"no detail", "", `refused "": empty`},
		{"segment", "a/../b", `refused "a/../b": dot-segment: segment ".."`},
		{"control char", "Music/a\x1bb.mp3", `refused "Music/a\x1bb.mp3": control-char: U+001B in segment "a\x1bb.mp3"`},
		{"format char", "song\u202e3pm.exe", `refused "song\u202e3pm.exe": format-char: U+202E in segment "song\u202e3pm.exe"`},
		{"line separator", "a\u2028b", `refused "a\u2028b": control-char: U+2028 in segment "a\u2028b"`},
		{"invalid", "a/M\xfcller", `refused "a/M\xfcller": invalid-utf8: byte 0xfc at offset 1 in segment "M\xfcller"`},
		{"illegal", "a:b", `refused "a:b": windows-illegal-char: ':' in segment "a:b"`},
		{"device", "x/Aux.tar.gz", `refused "x/Aux.tar.gz": windows-reserved-name: device "Aux" in segment "Aux.tar.gz"`},
		{"too long", seg(1025), `refused "` + seg(1025) + `": too-long: 1025 bytes (limit 1024)`},
		{"segment too long", "a/" + seg(256), `refused "a/` + seg(256) + `": segment-too-long: 256 bytes (limit 255) in segment "` + seg(256) + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LocalPath(tc.key)
			require.EqualError(t, err, tc.want)
			requirePrintable(t, err.Error())
		})
	}
	require.EqualError(t, &RefusedError{Key: "b/X", Reason: ReasonCaseCollision, Detail: `collides with "b/x"`},
		`refused "b/X": case-collision: collides with "b/x"`)
}

// requirePrintable fails when s holds anything that could forge or hide text
// in a log line or on a status page.
func requirePrintable(t testing.TB, s string) {
	t.Helper()
	require.True(t, utf8.ValidString(s), "%q", s)
	for _, r := range s {
		require.False(t, isControl(r) || unicode.Is(unicode.Cf, r), "%q holds %U", s, r)
	}
}

func TestErrDirMarkerIsNotRefusal(t *testing.T) {
	_, err := LocalPath("a/")
	var re *RefusedError
	require.False(t, errors.As(err, &re))
	require.ErrorIs(t, err, ErrDirMarker)
}
