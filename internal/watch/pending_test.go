package watch

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPending(t *testing.T) {
	type op struct {
		path string
		dir  bool
		full bool
	}
	f := func(p string) op { return op{path: p} }
	d := func(p string) op { return op{path: p, dir: true} }
	spread := func(n int) []op { // n files, two per directory
		var ops []op
		for i := range n {
			ops = append(ops, f(fmt.Sprintf("d%d/f%d", i/2, i)))
		}
		return ops
	}

	// dirCollapse 3, fullCollapse 10 throughout.
	tests := []struct {
		name string
		ops  []op
		want []Change
	}{
		{"nothing", nil, nil},
		{"duplicates", []op{f("a"), f("a"), f("a")}, []Change{{Path: "a"}}},
		{"sorted by path", []op{f("b"), f("a/c"), f("a")}, []Change{{Path: "a"}, {Path: "a/c"}, {Path: "b"}}},
		{"dir covers later file", []op{d("a"), f("a/x"), f("a/y/z")}, []Change{{Path: "a", Dir: true}}},
		{"dir absorbs earlier files", []op{f("a/x"), f("a/y/z"), f("ab"), d("a")}, []Change{{Path: "a", Dir: true}, {Path: "ab"}}},
		{"dir covers its own path", []op{f("a"), d("a"), f("a")}, []Change{{Path: "a", Dir: true}}},
		{"outer dir absorbs inner dir", []op{d("a/b"), d("a/b/c"), d("a")}, []Change{{Path: "a", Dir: true}}},
		{"at dirCollapse no collapse", []op{f("a/1"), f("a/2"), f("a/3")}, []Change{{Path: "a/1"}, {Path: "a/2"}, {Path: "a/3"}}},
		{"over dirCollapse collapses", []op{f("a/1"), f("a/2"), f("a/3"), f("a/4"), f("a/5")}, []Change{{Path: "a", Dir: true}}},
		{"subdirs count as entries", []op{f("a/1"), f("a/2"), d("a/x"), d("a/y")}, []Change{{Path: "a", Dir: true}}},
		{"collapse cascades", []op{f("p/1"), f("p/2"), f("p/3"), f("p/q/1"), f("p/q/2"), f("p/q/3"), f("p/q/4")}, []Change{{Path: "p", Dir: true}}},
		{"root collapse is full", []op{f("1"), f("2"), f("3"), f("4")}, []Change{{Full: true}}},
		{"root dir is full", []op{f("a"), d("")}, []Change{{Full: true}}},
		{"at fullCollapse no collapse", spread(10), func() []Change {
			var c []Change
			for _, o := range spread(10) {
				c = append(c, Change{Path: o.path})
			}
			return c
		}()},
		{"over fullCollapse is full", spread(11), []Change{{Full: true}}},
		{"full covers everything after", []op{{full: true}, f("a"), d("b")}, []Change{{Full: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPending(3, 10)
			for _, o := range tt.ops {
				switch {
				case o.full:
					p.addFull()
				case o.dir:
					p.addDir(o.path)
				default:
					p.addFile(o.path)
				}
			}
			require.Equal(t, tt.want, p.take())
			require.True(t, p.empty(), "take empties")
			require.Nil(t, p.take())
			require.Empty(t, p.count, "counts reset")
		})
	}
}

func TestPendingCountsStayConsistent(t *testing.T) {
	// After absorbing files into a Dir change, the parent counts must not
	// keep the absorbed entries, or a later unrelated file would collapse.
	p := newPending(3, 100)
	p.addFile("a/x/1")
	p.addFile("a/x/2")
	p.addDir("a/x")  // a/x: 2 entries absorbed, a: 1 entry
	p.addFile("a/1") // a: 2
	p.addFile("a/2") // a: 3, no collapse
	require.Equal(t, []Change{{Path: "a/1"}, {Path: "a/2"}, {Path: "a/x", Dir: true}}, p.take())
}

func TestTree(t *testing.T) {
	tr := newTree()
	for _, d := range []string{"", "a", "a/b", "a/b/c", "a/bc", "ab"} {
		tr.add(d)
	}
	require.ElementsMatch(t, []string{"a/b", "a/b/c"}, tr.removeSubtree("a/b"))
	require.True(t, tr.has("a/bc"))
	require.True(t, tr.has("a"))
	require.ElementsMatch(t, []string{"a", "a/bc"}, tr.removeSubtree("a"))
	require.True(t, tr.has("ab"))
	require.Empty(t, tr.removeSubtree("missing"))
	require.Len(t, tr.dirs, 2)
}

func TestRelOf(t *testing.T) {
	tests := []struct {
		test       string
		root, name string
		want       string
		ok         bool
	}{
		{"root itself", "/srv/share", "/srv/share", "", true},
		{"nested", "/srv/share", "/srv/share/a/b.mp3", "a/b.mp3", true},
		{"backslash is a name character", "/srv/share", "/srv/share/a\\b.mp3", "a\\b.mp3", true},
		{"sibling with the root as prefix", "/srv/share", "/srv/share2/x", "", false},
		{"outside", "/srv/share", "/srv/other", "", false},
		{"dot-dot", "/srv/share", "/srv/share/../x", "", false},
		{"filesystem root", "/", "/a/b", "a/b", true},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			w := &Watcher{root: tt.root}
			got, ok := w.relOf(tt.name)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}
