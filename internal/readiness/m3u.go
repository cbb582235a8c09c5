package readiness

import (
	"regexp"
	"strings"
)

// streamRE is an entry that is a URL (an HTTP stream, a satellite feed),
// not a file on a share: such entries are skipped.
var streamRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]+://`)

// parseM3U reads M3U, M3U8 and plain lists: every non-blank line that is
// not a '#' comment is a path; "#EXTINF:<seconds>[ attrs],<Artist - Title>"
// describes the path after it. It cannot fail: anything that is not a
// comment is a path, and a path that resolves nowhere is reported by the
// check.
func parseM3U(lines []string) []Entry {
	var entries []Entry
	var info Entry
	for i, l := range lines {
		switch {
		case l == "":
		case hasPrefixFold(l, "#EXTINF:"):
			info = parseEXTINF(l[len("#EXTINF:"):])
		case strings.HasPrefix(l, "#"):
		case streamRE.MatchString(l):
			info = Entry{}
		default:
			info.Line, info.Path = i+1, l
			entries = append(entries, info)
			info = Entry{}
		}
	}
	return entries
}

// parseEXTINF reads "215,Artist - Title" or "-1 tvg-id=x,Title"; a
// malformed one leaves what it cannot read unknown.
func parseEXTINF(s string) Entry {
	head, text, _ := strings.Cut(s, ",")
	dur, _, _ := strings.Cut(strings.TrimSpace(head), " ")
	var e Entry
	e.Duration = seconds(dur)
	e.Artist, e.Title = splitArtistTitle(text)
	return e
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
