package playout

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/eventlog"
	"genesissync/internal/model"
)

func TestPacingOff(t *testing.T) {
	p := Off("turned off (playout.aware: false)")
	require.Nil(t, p.Governor())
	require.NoError(t, p.Run(context.Background()), "returns at once")
	require.Equal(t, model.Playout{Reason: "turned off (playout.aware: false)", Summary: "off: turned off (playout.aware: false)"}, p.Status())

	var none *Pacing
	require.Nil(t, none.Governor())
	require.NoError(t, none.Run(context.Background()))
	require.Equal(t, model.Playout{Reason: "not started", Summary: "off: not started"}, none.Status())
}

func TestPacingStatusAndEvents(t *testing.T) {
	smb := &fakeSMB{reads: map[uint64]int64{1: 0}}
	events := eventlog.New(0)
	p := New(Options{Read: smb.read, Limits: Limits{Rate: 1 << 20, Transfers: 2}, Threshold: 32 << 10,
		QuietAfter: time.Millisecond, Log: zerolog.Nop(), Events: events})
	require.NotNil(t, p.Governor())

	p.detector.Sample() // baseline
	st := p.Status()
	require.Equal(t, model.Playout{Aware: true, ThresholdBytesPerSecond: 32 << 10, RateLimitBytesPerSecond: 1 << 20,
		Transfers: 2, Summary: "quiet: transfers at full speed"}, st)

	// A client reads 1 GiB at once: well over the threshold.
	smb.reads[1] = 1 << 30
	time.Sleep(time.Millisecond)
	p.detector.Sample()
	st = p.Status()
	require.True(t, st.Active)
	require.True(t, p.Governor().Active())
	require.NotNil(t, st.Since)
	require.Positive(t, st.ClientReadBytesPerSecond)
	require.Equal(t, "playout: transfers held to 1.0 MiB/s, 2 at a time", st.Summary)
	ev := events.Recent(1)[0]
	require.Equal(t, "playout.active", ev.Kind)
	require.Regexp(t, `^SMB clients reading .+/s: transfers held to 1\.0 MiB/s, 2 at a time$`, ev.Message)

	// Quiet for longer than QuietAfter: back to full speed, and said so.
	time.Sleep(2 * time.Millisecond)
	p.detector.Sample()
	st = p.Status()
	require.False(t, st.Active)
	require.Equal(t, "quiet: transfers at full speed", st.Summary)
	ev = events.Recent(1)[0]
	require.Equal(t, "playout.quiet", ev.Kind)
	require.Equal(t, "SMB clients quiet for 1ms: transfers back to full speed", ev.Message)

	// A failing sampler is shown.
	smb.err = errors.New("netlink: permission denied")
	p.detector.Sample()
	require.Equal(t, "netlink: permission denied", p.Status().Error)
}
