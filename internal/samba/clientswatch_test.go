package samba

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/model"
)

func TestToolConfig(t *testing.T) {
	require.Equal(t, "/run/gs/smb.conf", ToolConfig(&config.Config{Samba: config.Samba{Mode: config.SambaStandalone, RunDir: "/run/gs"}}))
	require.Empty(t, ToolConfig(&config.Config{Samba: config.Samba{Mode: config.SambaAppliance, RunDir: "/run/gs"}}), "the system's smb.conf")
}

func TestClientsWatcher(t *testing.T) {
	cfg := &config.Config{Samba: config.Samba{Mode: config.SambaStandalone, RunDir: "/run/gs"},
		Shares: map[string]*config.Share{"media": {Name: "media", Path: "/srv/media"}}}
	w := NewClientsWatcher(cfg, zerolog.Nop())
	at := time.Date(2026, 11, 22, 0, 27, 46, 0, time.UTC)
	var answer Clients
	var fail error
	var asked string
	w.list = func(_ context.Context, conf string) (Clients, error) {
		asked = conf
		return answer, fail
	}
	require.Equal(t, model.Clients{}, w.Status(), "nothing asked yet")
	require.Equal(t, model.Clients{}, (*ClientsWatcher)(nil).Status())

	w.ask(context.Background())
	st := w.Status()
	require.Equal(t, "/run/gs/smb.conf", asked)
	require.False(t, st.CheckedAt.IsZero())
	require.NotNil(t, st.Sessions, "an empty list, not null, in the JSON")
	require.NotNil(t, st.OpenFiles)

	answer = Clients{
		Sessions: []Session{{User: "studio", Machine: "10.0.0.7", Dialect: "SMB3_11", Shares: []string{"media"}, ConnectedAt: at, Encrypted: true}},
		OpenFiles: []OpenFile{
			{SharePath: "/srv/media", Path: "spots/a.mp3", Write: true},
			{SharePath: "/elsewhere", Path: "b.mp3"},
		},
	}
	w.ask(context.Background())
	st = w.Status()
	require.Equal(t, []model.Session{{User: "studio", Machine: "10.0.0.7", Dialect: "SMB3_11", Shares: []string{"media"}, ConnectedAt: at, Encrypted: true}}, st.Sessions)
	require.Equal(t, []model.OpenFile{{Share: "media", Path: "spots/a.mp3", Write: true}, {Share: "", Path: "b.mp3"}}, st.OpenFiles,
		"files are named by their share; a path outside every share has none")
	require.Empty(t, st.Error)

	// A failure keeps the last lists and says why.
	before := st.CheckedAt
	fail = errors.New("smbstatus: exit status 1")
	w.ask(context.Background())
	st = w.Status()
	require.Equal(t, "smbstatus: exit status 1", st.Error)
	require.Len(t, st.Sessions, 1)
	require.Len(t, st.OpenFiles, 2)
	require.False(t, st.CheckedAt.Before(before))

	fail = nil
	w.ask(context.Background())
	require.Empty(t, w.Status().Error, "a later answer clears the error")

	// An ask cut short by the end of Run records nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fail = errors.New("context canceled")
	w.ask(ctx)
	require.Empty(t, w.Status().Error)
}

func TestClientsWatcherSuspects(t *testing.T) {
	cfg := &config.Config{Samba: config.Samba{Mode: config.SambaStandalone, RunDir: "/run/gs"},
		Shares: map[string]*config.Share{
			"media":   {Name: "media", Path: "/srv/media"},
			"archive": {Name: "archive", Path: "/srv/archive"},
		}}
	w := NewClientsWatcher(cfg, zerolog.Nop())
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return now }
	var answer Clients
	var fail error
	asks := 0
	w.list = func(context.Context, string) (Clients, error) {
		asks++
		return answer, fail
	}
	ctx := context.Background()

	require.Nil(t, (*ClientsWatcher)(nil).Suspects(ctx, "media", []string{"a.mp3"}))
	(*ClientsWatcher)(nil).Watch("media", time.Minute) // no-op, no panic
	require.Nil(t, w.Suspects(ctx, "media", nil), "nobody seen")
	require.Equal(t, 1, asks, "Suspects asks smbd at once")

	mallory := Session{User: "mallory", Machine: "10.0.0.66", Remote: "10.0.0.66:50000", Shares: []string{"media"}}
	editor := Session{User: "editor", Machine: "10.0.0.2", Remote: "10.0.0.2:50001", Shares: []string{"archive", "media"}}
	holder := func(s Session, write bool) Holder {
		return Holder{User: s.User, Machine: s.Machine, Remote: s.Remote, Write: write}
	}
	// A poll catches mallory rewriting a.mp3 and reading b.mp3, and the
	// editor writing on the archive share.
	answer = Clients{
		Sessions: []Session{mallory, editor},
		OpenFiles: []OpenFile{
			{SharePath: "/srv/media", Path: "spots/a.mp3", Write: true, Holders: []Holder{holder(mallory, true)}},
			{SharePath: "/srv/media", Path: "spots/b.mp3", Holders: []Holder{holder(mallory, false)}},
			{SharePath: "/srv/archive", Path: "x.wav", Write: true, Holders: []Holder{holder(editor, true)}},
			{SharePath: "/elsewhere", Path: "spots/c.mp3", Write: true, Holders: []Holder{holder(editor, true)}},
		},
	}
	w.ask(ctx)
	seenAt := now

	// Then the files are closed and mallory logs off; the trip comes later.
	now = now.Add(30 * time.Second)
	answer = Clients{Sessions: []Session{editor}}
	got := w.Suspects(ctx, "media", []string{"spots/a.mp3", "spots/b.mp3", "spots/c.mp3"})
	require.Equal(t, []Suspect{
		{User: "mallory", Machine: "10.0.0.66", Remote: "10.0.0.66:50000", Share: "media", Level: SuspectChanged,
			Evidence: "had one of the changed files open for writing", Changed: 1, Paths: []string{"spots/a.mp3"}, LastSeen: seenAt},
		{User: "editor", Machine: "10.0.0.2", Remote: "10.0.0.2:50001", Share: "media", Level: SuspectConnected,
			Evidence: "connected to the share", LastSeen: now},
	}, got, "a read open is no evidence; writes elsewhere are not on this share")
	got = w.Suspects(ctx, "archive", []string{"spots/a.mp3"})
	require.Len(t, got, 1)
	require.Equal(t, SuspectWriting, got[0].Level)
	require.Equal(t, "editor", got[0].User)

	// A failed ask leaves the memory as it was.
	fail = errors.New("smbstatus: exit status 1")
	require.Len(t, w.Suspects(ctx, "media", []string{"spots/a.mp3"}), 2)
	fail = nil

	// Ten minutes on, mallory is forgotten.
	now = seenAt.Add(recentFor + time.Second)
	got = w.Suspects(ctx, "media", []string{"spots/a.mp3"})
	require.Len(t, got, 1)
	require.Equal(t, "editor", got[0].User)

	// Memory is capped: the oldest sightings go first.
	many := Clients{OpenFiles: make([]OpenFile, 0, recentMax)}
	for i := range recentMax {
		many.OpenFiles = append(many.OpenFiles, OpenFile{SharePath: "/srv/media", Path: strconv.Itoa(i), Write: true, Holders: []Holder{holder(mallory, true)}})
	}
	answer = many
	now = now.Add(time.Second)
	w.ask(ctx)
	require.Len(t, w.recent, recentMax, "the editor's connection, seen earlier, made room")
	_, ok := w.recent[sightingKey{share: "media", user: "editor", machine: "10.0.0.2"}]
	require.False(t, ok)
}

func TestClientsWatcherWatch(t *testing.T) {
	w := NewClientsWatcher(&config.Config{}, zerolog.Nop())
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return now }
	require.Equal(t, clientsEvery, w.period())

	w.Watch("media", time.Minute)
	w.Watch("media", time.Second) // does not shorten the watch
	w.Watch("media", 0)           // nor does a zero one
	w.Watch("archive", 2*time.Minute)
	require.Equal(t, clientsFastEvery, w.period())
	now = now.Add(time.Minute)
	require.Equal(t, clientsFastEvery, w.period(), "archive is still watched")
	require.Equal(t, map[string]time.Time{"archive": now.Add(time.Minute)}, w.fastUntil, "an ended watch is forgotten")
	now = now.Add(time.Minute)
	require.Equal(t, clientsEvery, w.period())
	require.Empty(t, w.fastUntil)
}

// TestClientsWatcherRun checks the loop: an ask at once, and one at once
// again when a watch starts, then every second.
func TestClientsWatcherRun(t *testing.T) {
	w := NewClientsWatcher(&config.Config{}, zerolog.Nop())
	asked := make(chan struct{}, 100)
	w.list = func(context.Context, string) (Clients, error) {
		asked <- struct{}{}
		return Clients{}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()
	wait := func(within time.Duration, why string) {
		t.Helper()
		select {
		case <-asked:
		case <-time.After(within):
			t.Fatal(why)
		}
	}
	wait(5*time.Second, "no ask at once")
	w.Watch("media", time.Minute)
	wait(5*time.Second, "no ask when the watch started")
	start := time.Now()
	wait(5*time.Second, "no ask a second later")
	require.Greater(t, time.Since(start), clientsFastEvery/2)
	cancel()
	require.NoError(t, <-ran)
}

// TestClientsWatcherAskOrder checks that of two asks at once (Run and
// Suspects), the status is the answer of the one that started last, and
// both answers are remembered.
func TestClientsWatcherAskOrder(t *testing.T) {
	cfg := &config.Config{Shares: map[string]*config.Share{"media": {Name: "media", Path: "/srv/media"}}}
	w := NewClientsWatcher(cfg, zerolog.Nop())
	var mu sync.Mutex
	clock := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	w.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	release := make(chan struct{})
	first := Clients{Sessions: []Session{{User: "old", Machine: "10.0.0.1", Shares: []string{"media"}}}}
	second := Clients{Sessions: []Session{{User: "new", Machine: "10.0.0.2", Shares: []string{"media"}}}}
	w.list = func(ctx context.Context, _ string) (Clients, error) {
		if ctx.Value(slowKey{}) != nil {
			<-release
			return first, nil
		}
		return second, nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.ask(context.WithValue(context.Background(), slowKey{}, true))
	}()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return clock.After(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))
	}, 5*time.Second, time.Millisecond, "the slow ask has started")
	w.ask(context.Background())
	close(release)
	<-done
	st := w.Status()
	require.Len(t, st.Sessions, 1)
	require.Equal(t, "new", st.Sessions[0].User, "the older answer does not overwrite the newer")
	require.Len(t, w.Suspects(context.Background(), "media", nil), 2, "both answers are remembered")
}

type slowKey struct{}
