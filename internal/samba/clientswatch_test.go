package samba

import (
	"context"
	"errors"
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
