package e2e

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/eventlog"
	"genesissync/tests/harness"
)

// TestPlayoutAwareTransfers plays a track over SMB through the real smbd
// and checks the whole loop: the daemon sees the client reading, holds an
// upload to playout.rate (it still arrives, whole), says so on the status
// API, in metrics and in the event log, and goes back to full speed once
// the player has been quiet for quiet_after.
func TestPlayoutAwareTransfers(t *testing.T) {
	t.Parallel()
	const rate = 1 << 20 // playout.rate: 1 MiB/s
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		Config: "playout:\n  rate: 1MiB\n  quiet_after: 2s\n",
	})
	st, err := a.Status()
	require.NoError(t, err)
	require.True(t, st.Playout.Aware, "playout-aware transfers are on by default: %+v", st.Playout)
	require.False(t, st.Playout.Active)
	require.Equal(t, int64(rate), st.Playout.RateLimitBytesPerSecond)

	// The track reaches the bucket at full speed first; nobody plays yet.
	writeLocal(t, filepath.Join(a.SharePath, "on-air.wav"), 1, 8<<20)
	waitSynced(t, a.Store, "on-air.wav", 1, 8<<20)

	// The player: 64 KiB every 10 ms (6.4 MB/s), over SMB.
	c := a.SMB(t)
	f, err := c.Open("on-air.wav")
	require.NoError(t, err)
	defer f.Close()
	var stop atomic.Bool
	played := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for off := int64(0); !stop.Load(); off = (off + int64(len(buf))) % (8 << 20) {
			if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
				played <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		played <- nil
	}()
	require.Eventually(t, func() bool {
		st, err := a.Status()
		return err == nil && st.Playout.Active
	}, 15*time.Second, 100*time.Millisecond, "the daemon never saw the player")
	st, err = a.Status()
	require.NoError(t, err)
	require.GreaterOrEqual(t, st.Playout.ClientReadBytesPerSecond, st.Playout.ThresholdBytesPerSecond)
	require.Contains(t, st.Playout.Summary, "held to 1.0 MiB/s")
	require.True(t, hasEvent(st.Events, "playout.active"), "no playout.active event")
	require.Contains(t, metrics(t, a), "genesissync_playout_active 1")

	// A studio saves 3 MiB while on air: hashing and sending it move
	// 6 MiB through the 1 MiB/s pacer, so it cannot arrive in under
	// about 5 s (the limiter's burst is one 256 KiB chunk); it arrives
	// whole.
	const size = 3 << 20
	writeLocal(t, filepath.Join(a.SharePath, "news", "bulletin.wav"), 2, size)
	written := time.Now()
	waitSynced(t, a.Store, "news/bulletin.wav", 2, size)
	requireObject(t, a.Store, "news/bulletin.wav", 2, size)
	took := time.Since(written)
	require.GreaterOrEqual(t, took, time.Duration(float64(2*size-(256<<10))/rate*float64(time.Second)),
		"an upload during playout was not paced")

	stop.Store(true)
	require.NoError(t, <-played)
	require.Eventually(t, func() bool {
		st, err := a.Status()
		return err == nil && !st.Playout.Active
	}, 20*time.Second, 100*time.Millisecond, "transfers never went back to full speed")
	st, err = a.Status()
	require.NoError(t, err)
	require.True(t, hasEvent(st.Events, "playout.quiet"), "no playout.quiet event")
	require.Equal(t, "quiet: transfers at full speed", st.Playout.Summary)
	require.Contains(t, metrics(t, a), "genesissync_playout_active 0")
}

func hasEvent(events []eventlog.Event, kind string) bool {
	return slices.ContainsFunc(events, func(e eventlog.Event) bool { return e.Kind == kind })
}

func metrics(t *testing.T, a *harness.Appliance) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, a.StatusURL+"/metrics", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return strings.ReplaceAll(string(b), "\r", "")
}
