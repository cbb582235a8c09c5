package playout

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)} }

// fakeSMB is smbd's client connections: cumulative bytes sent, by socket.
type fakeSMB struct {
	reads map[uint64]int64
	err   error
}

func (f *fakeSMB) read() (map[uint64]int64, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := make(map[uint64]int64, len(f.reads))
	for k, v := range f.reads {
		out[k] = v
	}
	return out, nil
}

func TestDetectorSwitches(t *testing.T) {
	c, smb := newClock(), &fakeSMB{reads: map[uint64]int64{100: 5 << 20}}
	gov := NewGovernor(Limits{Rate: 1 << 20, Transfers: 1})
	var changes []bool
	d := NewDetector(gov, DetectorOptions{
		Read: smb.read, Every: time.Second, Threshold: 256 << 10, QuietAfter: 10 * time.Second, Now: c.now,
		OnChange: func(active bool, _ int64) { changes = append(changes, active) },
	})

	d.Sample() // baseline: a client that read 5 MiB before we looked is not playing
	require.False(t, d.State().Active)

	// A new client connects having read its config: it is a baseline
	// too, not a rate.
	c.advance(time.Second)
	smb.reads[200] = 10 << 20
	d.Sample()
	require.False(t, d.State().Active)
	require.Zero(t, d.State().ReadRate)

	// 64 KiB every 2 ms: 32 MiB/s.
	c.advance(time.Second)
	smb.reads[200] += 32 << 20
	d.Sample()
	st := d.State()
	require.True(t, st.Active)
	require.True(t, gov.Active())
	require.Equal(t, int64(32<<20), st.ReadRate)
	require.Equal(t, c.t, st.Since)

	// The player stops (or disconnects: its counter vanishes); transfers
	// stay slow for QuietAfter, then go back to full speed.
	for i := 0; i < 9; i++ {
		c.advance(time.Second)
		if i == 3 {
			delete(smb.reads, 200)
		}
		d.Sample()
		require.True(t, d.State().Active, "second %d of quiet", i+1)
	}
	c.advance(time.Second)
	d.Sample()
	require.False(t, d.State().Active)
	require.False(t, gov.Active())

	// Reads under the threshold (an idle client's keepalives, a
	// directory listing) do not count.
	c.advance(time.Second)
	smb.reads[100] += 100 << 10
	d.Sample()
	require.False(t, d.State().Active)
	require.Equal(t, []bool{true, false}, changes)
}

func TestDetectorSamplerFailure(t *testing.T) {
	c, smb := newClock(), &fakeSMB{reads: map[uint64]int64{1: 0}}
	gov := NewGovernor(Limits{Rate: 1 << 20})
	d := NewDetector(gov, DetectorOptions{Read: smb.read, Threshold: 1, QuietAfter: 5 * time.Second, Now: c.now})
	d.Sample()
	c.advance(time.Second)
	smb.reads[1] = 1 << 20
	d.Sample()
	require.True(t, gov.Active())

	// A failing sampler neither holds transfers back for ever nor flaps.
	smb.err = errors.New("open /proc/1/io: permission denied")
	c.advance(time.Second)
	d.Sample()
	require.True(t, gov.Active())
	require.Contains(t, d.State().Err, "permission denied")
	c.advance(5 * time.Second)
	d.Sample()
	require.False(t, gov.Active())
}

func TestGovernorAcquire(t *testing.T) {
	gov := NewGovernor(Limits{Rate: 1 << 20, Transfers: 1})
	ctx := context.Background()

	// Quiet: no limit on transfers at once.
	var releases []func()
	for i := 0; i < 5; i++ {
		r, err := gov.Acquire(ctx)
		require.NoError(t, err)
		releases = append(releases, r)
	}
	for _, r := range releases {
		r()
	}

	gov.SetActive(true)
	first, err := gov.Acquire(ctx)
	require.NoError(t, err)
	got := make(chan func(), 1)
	go func() {
		r, err := gov.Acquire(ctx)
		if err == nil {
			got <- r
		}
	}()
	select {
	case <-got:
		t.Fatal("a second transfer started while playout is active")
	case <-time.After(50 * time.Millisecond):
	}
	first()
	first() // release is idempotent
	second := <-got
	second()

	// A waiter is let go when playout ends, and a cancelled one returns.
	hold, err := gov.Acquire(ctx)
	require.NoError(t, err)
	go func() {
		r, err := gov.Acquire(ctx)
		if err == nil {
			got <- r
		}
	}()
	time.Sleep(20 * time.Millisecond)
	gov.SetActive(false)
	(<-got)()
	hold()

	gov.SetActive(true)
	hold, err = gov.Acquire(ctx)
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = gov.Acquire(cctx)
	require.ErrorIs(t, err, context.Canceled)
	hold()

	var none *Governor
	r, err := none.Acquire(ctx)
	require.NoError(t, err)
	r()
	require.False(t, none.Active())
}

func TestGovernorPaces(t *testing.T) {
	gov := NewGovernor(Limits{Rate: 4 << 20, Chunk: 64 << 10})
	ctx := context.Background()
	require.Equal(t, int(^uint(0)>>1), gov.Chunk(), "quiet: no chunk limit")
	require.NoError(t, gov.WaitN(ctx, 1<<30), "quiet: no wait")

	gov.SetActive(true)
	require.Equal(t, 64<<10, gov.Chunk())
	// The limiter's clock is real; 1 MiB at 4 MiB/s takes about 250 ms.
	// Bounded generously from below only: pacing must happen.
	start := time.Now()
	require.NoError(t, gov.WaitN(ctx, 1<<20))
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, gov.WaitN(cctx, 1<<20))
}
