package samba

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRankSuspects(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	conn := func(user, machine string, s int) sighting {
		return sighting{Share: "media", User: user, Machine: machine, Remote: machine + ":50000", At: at(s)}
	}
	write := func(user, machine, path string, s int) sighting {
		w := conn(user, machine, s)
		w.Path = path
		return w
	}
	changed := []string{"spots/a.mp3", "spots/b.mp3", "/spots/c.mp3", "spots/./d.mp3", "e.mp3", "f.mp3", "g.mp3"}
	tests := []struct {
		name  string
		paths []string
		seen  []sighting
		want  []Suspect
	}{
		{name: "nobody seen", paths: changed, want: []Suspect{}},
		{
			name:  "writer of changed files first, then other writers, then the connected",
			paths: changed,
			seen: []sighting{
				conn("reader", "10.0.0.3", 9),
				write("editor", "10.0.0.2", "jingles/x.wav", 5),
				conn("editor", "10.0.0.2", 8),
				conn("mallory", "10.0.0.66", 1),
				write("mallory", "10.0.0.66", "spots/a.mp3", 2),
				write("mallory", "10.0.0.66", "spots/b.mp3", 3),
				write("mallory", "10.0.0.66", "jingles/y.wav", 4),
			},
			want: []Suspect{
				{User: "mallory", Machine: "10.0.0.66", Remote: "10.0.0.66:50000", Share: "media", Level: SuspectChanged,
					Evidence: "had 2 of the changed files open for writing", Changed: 2, Paths: []string{"spots/a.mp3", "spots/b.mp3"}, LastSeen: at(3)},
				{User: "editor", Machine: "10.0.0.2", Remote: "10.0.0.2:50000", Share: "media", Level: SuspectWriting,
					Evidence: "held files open for writing on the share", LastSeen: at(5)},
				{User: "reader", Machine: "10.0.0.3", Remote: "10.0.0.3:50000", Share: "media", Level: SuspectConnected,
					Evidence: "connected to the share", LastSeen: at(9)},
			},
		},
		{
			name:  "more changed files first, then the latest seen; paths cleaned and capped",
			paths: changed,
			seen: []sighting{
				write("one", "10.0.0.1", "spots/a.mp3", 9),
				write("two", "10.0.0.2", "spots/a.mp3", 1),
				write("many", "10.0.0.9", "spots/a.mp3", 1),
				write("many", "10.0.0.9", "spots/b.mp3", 1),
				write("many", "10.0.0.9", "spots/c.mp3", 1),
				write("many", "10.0.0.9", "spots/d.mp3", 1),
				write("many", "10.0.0.9", "./e.mp3", 1),
				write("many", "10.0.0.9", "f.mp3", 2),
				write("many", "10.0.0.9", "f.mp3", 1), // seen at two polls
				write("many", "10.0.0.9", "g.mp3", 1),
			},
			want: []Suspect{
				{User: "many", Machine: "10.0.0.9", Remote: "10.0.0.9:50000", Share: "media", Level: SuspectChanged,
					Evidence: "had 7 of the changed files open for writing", Changed: 7,
					Paths: []string{"e.mp3", "f.mp3", "g.mp3", "spots/a.mp3", "spots/b.mp3"}, LastSeen: at(2)},
				{User: "one", Machine: "10.0.0.1", Remote: "10.0.0.1:50000", Share: "media", Level: SuspectChanged,
					Evidence: "had one of the changed files open for writing", Changed: 1, Paths: []string{"spots/a.mp3"}, LastSeen: at(9)},
				{User: "two", Machine: "10.0.0.2", Remote: "10.0.0.2:50000", Share: "media", Level: SuspectChanged,
					Evidence: "had one of the changed files open for writing", Changed: 1, Paths: []string{"spots/a.mp3"}, LastSeen: at(1)},
			},
		},
		{
			name:  "one user on two machines is two suspects; the latest connection's remote end is kept",
			paths: []string{"a.mp3"},
			seen: []sighting{
				write("studio", "10.0.0.7", "a.mp3", 1),
				{Share: "media", User: "studio", Machine: "10.0.0.7", Remote: "10.0.0.7:50123", At: at(4)},
				conn("studio", "10.0.0.8", 2),
			},
			want: []Suspect{
				{User: "studio", Machine: "10.0.0.7", Remote: "10.0.0.7:50123", Share: "media", Level: SuspectChanged,
					Evidence: "had one of the changed files open for writing", Changed: 1, Paths: []string{"a.mp3"}, LastSeen: at(1)},
				{User: "studio", Machine: "10.0.0.8", Remote: "10.0.0.8:50000", Share: "media", Level: SuspectConnected,
					Evidence: "connected to the share", LastSeen: at(2)},
			},
		},
		{
			name:  "other shares and unnamed clients are ignored",
			paths: []string{"a.mp3"},
			seen: []sighting{
				{Share: "archive", User: "studio", Machine: "10.0.0.7", Path: "a.mp3", At: at(1)},
				{Share: "media", Path: "a.mp3", At: at(1)},
			},
			want: []Suspect{},
		},
		{
			name: "no changed paths given: writers, then the connected",
			seen: []sighting{
				conn("reader", "10.0.0.3", 1),
				write("editor", "10.0.0.2", "a.mp3", 1),
			},
			want: []Suspect{
				{User: "editor", Machine: "10.0.0.2", Remote: "10.0.0.2:50000", Share: "media", Level: SuspectWriting,
					Evidence: "held files open for writing on the share", LastSeen: at(1)},
				{User: "reader", Machine: "10.0.0.3", Remote: "10.0.0.3:50000", Share: "media", Level: SuspectConnected,
					Evidence: "connected to the share", LastSeen: at(1)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, rankSuspects("media", tt.paths, tt.seen))
		})
	}
}

func TestCleanSharePath(t *testing.T) {
	for in, want := range map[string]string{
		"a/b.mp3": "a/b.mp3", "/a/b.mp3": "a/b.mp3", "./a//b.mp3": "a/b.mp3", "a/../b.mp3": "b.mp3",
		"": ".", ".": ".", "/": ".", "../../x": "x",
	} {
		require.Equal(t, want, cleanSharePath(in), "cleanSharePath(%q)", in)
	}
}

func TestRemoteAddr(t *testing.T) {
	for in, want := range map[string]string{
		"ipv4:127.0.0.1:39140": "127.0.0.1:39140",
		"ipv6:fd00::7:49152":   "[fd00::7]:49152",
		"ipv6:::1:445":         "[::1]:445",
		"":                     "",
		"unix:/run/samba/sock": "unix:/run/samba/sock",
		"ipv4:noport":          "ipv4:noport",
	} {
		require.Equal(t, want, remoteAddr(in), "remoteAddr(%q)", in)
	}
}
