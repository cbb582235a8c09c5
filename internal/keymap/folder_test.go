package keymap

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestFolder(t *testing.T) {
	type add struct {
		path     string
		collides string // "" means accepted; else the path named in Detail
	}
	for _, tc := range []struct {
		name string
		adds []add
	}{
		{"distinct", []add{{"a.mp3", ""}, {"b.mp3", ""}, {"a/b.mp3", ""}}},
		{"same path twice", []add{{"A/x.mp3", ""}, {"A/x.mp3", ""}}},
		{"file case", []add{{"Song.mp3", ""}, {"song.mp3", "Song.mp3"}, {"SONG.MP3", "Song.mp3"}}},
		{"directory case", []add{{"A/x", ""}, {"a/y", "A"}}},
		{"directory case deep", []add{{"x/A/1", ""}, {"x/a/2", "x/A"}, {"X/b", "x"}, {"x/B", ""}, {"x/b", "x/B"}}},
		{"file then directory", []add{{"A", ""}, {"a/b", "A"}}},
		{"directory then file", []add{{"a/b", ""}, {"A", "a"}}},
		{"file and directory same spelling", []add{{"a", ""}, {"a/b", ""}}},
		{"refused is not recorded", []add{{"A", ""}, {"a", "A"}, {"a", "A"}, {"A/c", ""}}},
		{"first wins lower", []add{{"song.mp3", ""}, {"Song.mp3", "song.mp3"}}},
		{"umlaut", []add{{"Über.mp3", ""}, {"über.mp3", "Über.mp3"}}},
		{"greek sigma", []add{{"ΣΑΣ", ""}, {"σας", "ΣΑΣ"}, {"σασ", "ΣΑΣ"}}},
		{"kelvin sign", []add{{"\u212a.mp3", ""}, {"k.mp3", "\u212a.mp3"}}},
		{"long s", []add{{"ſong", ""}, {"Song", "ſong"}}},
		{"capital sharp s", []add{{"ß", ""}, {"ẞ", "ß"}}},
		{"sharp s is not ss", []add{{"ß", ""}, {"ss", ""}, {"SS", "ss"}}},
		{"dotted capital i is not i", []add{{"İ", ""}, {"i", ""}, {"ı", ""}}},
		{"cyrillic", []add{{"Музыка/Песня.mp3", ""}, {"музыка/песня.mp3", "Музыка"}}},
		{"japanese has no case", []add{{"曲.mp3", ""}, {"曲.MP3", "曲.mp3"}}},
		{"normalisation is not folded", []add{{"Caf\u00e9", ""}, {"Cafe\u0301", ""}}},
		{"prefix not segment", []add{{"ab/c", ""}, {"A", ""}, {"aB", "ab"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFolder()
			for _, a := range tc.adds {
				err := f.Add(a.path)
				if a.collides == "" {
					require.NoError(t, err, a.path)
					continue
				}
				var re *RefusedError
				require.ErrorAs(t, err, &re, a.path)
				require.Equal(t, ReasonCaseCollision, re.Reason)
				require.Equal(t, a.path, re.Key)
				require.Equal(t, fmt.Sprintf("collides with %q", a.collides), re.Detail)
			}
		})
	}
}

// TestFoldRune checks foldRune against strings.EqualFold for every rune: two
// runes fold alike exactly when EqualFold says they are equal.
func TestFoldRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		fr := foldRune(r)
		if !strings.EqualFold(string(r), string(fr)) || foldRune(fr) != fr {
			require.Failf(t, "bad fold", "%U folds to %U", r, fr)
		}
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			if foldRune(o) != fr {
				require.Failf(t, "orbit folds apart", "%U and %U", r, o)
			}
		}
	}
}

func TestFoldString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"abc/def.mp3", "abc/def.mp3"},
		{"ABC/Def.MP3", "abc/def.mp3"},
		{"Über", "über"},
		{"\u212a", "k"},
		{"ſ", "s"},
		{"a\xffB", "a\xffb"},
		{"ΣΑΣ", "σασ"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, foldString(tc.in))
		})
	}
	// Already folded strings come back without allocating.
	require.Zero(t, testing.AllocsPerRun(10, func() { _ = foldString("music/jingles/über.mp3") }))
}

// sharePaths returns n paths shaped like a station's share: 100 directories
// of 10 subdirectories, mixed-case names of typical length.
func sharePaths(n int) []string {
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("Music/Artist %03d/Album %02d/%05d - Track Title Of Some Length.mp3", i%100, i/100%10, i)
	}
	return paths
}

// TestFolderMemory pins the memory a Folder holds at 100,000 paths, beyond
// the path strings themselves.
func TestFolderMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures heap at 100,000 paths")
	}
	paths := sharePaths(100_000)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	f := NewFolder()
	for _, p := range paths {
		require.NoError(t, f.Add(p))
	}
	after := heap()
	perPath := float64(after-before) / float64(len(paths))
	t.Logf("Folder holds %.0f bytes per path beyond the paths (%d-byte paths)", perPath, len(paths[0]))
	require.Less(t, perPath, 200.0)
	runtime.KeepAlive(f)
	runtime.KeepAlive(paths)
}

func BenchmarkFolderAdd(b *testing.B) {
	paths := sharePaths(100_000)
	b.ReportAllocs()
	for b.Loop() {
		f := NewFolder()
		for _, p := range paths {
			if err := f.Add(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}
