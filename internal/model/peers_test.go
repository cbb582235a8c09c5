package model

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/reconcile"
)

func TestPeerState(t *testing.T) {
	for _, tc := range []struct {
		peer Peer
		want string
	}{
		{Peer{}, "live"},
		{Peer{Stale: true}, "stale"},
		{Peer{Stopped: true}, "stopped"},
		{Peer{Stopped: true, Stale: true}, "stopped"},
	} {
		require.Equal(t, tc.want, tc.peer.State(), "%+v", tc.peer)
	}
}

// TestPeersJSON: a share's peers are its "peers" key, absent where the
// daemon keeps no heartbeat; a peer leaves out what it does not know.
func TestPeersJSON(t *testing.T) {
	b, err := json.Marshal(Share{Status: reconcile.Status{Name: "studio"}})
	require.NoError(t, err)
	require.NotContains(t, string(b), `"peers"`)

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b, err = json.Marshal(Peers{Self: "studio-a", StaleAfterSeconds: 900, CheckedAt: at, Appliances: []Peer{
		{Name: "studio-a", Version: "1.4.0", Self: true, Started: at, LastSeen: at, Shares: []string{"studio"}},
		{Name: "studio-b", LastSeen: at, Stale: true},
	}})
	require.NoError(t, err)
	require.JSONEq(t, `{"self": "studio-a", "stale_after_seconds": 900, "checked_at": "2026-03-01T12:00:00Z", "appliances": [
		{"name": "studio-a", "version": "1.4.0", "self": true, "started": "2026-03-01T12:00:00Z", "last_seen": "2026-03-01T12:00:00Z", "shares": ["studio"]},
		{"name": "studio-b", "last_seen": "2026-03-01T12:00:00Z", "stale": true}]}`, string(b))
}
