package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/samba"
)

// Playout client: what a playout PC's audio engine does to the share.
const (
	playChunk   = 64 << 10
	playPeriod  = 2 * time.Millisecond
	trackName   = "playout.track" // excluded from sync by the bench config
	trackLength = 64 << 20        // read in a loop
)

// playStats is one playout session through smbd.
type playStats struct {
	Reads          int
	P50, P99, P999 time.Duration // read latency
	WorstLag       time.Duration // how late a read started against its schedule
	Duration       time.Duration
	LatePct        float64 // reads that started more than one period late
}

// writeTrack puts the player's file into the share (local write: the
// player only reads it).
func writeTrack(b *testing.B, share string) {
	b.Helper()
	data := make([]byte, trackLength)
	for i := range data {
		data[i] = byte(i * 7)
	}
	require.NoError(b, os.WriteFile(filepath.Join(share, trackName), data, 0o644))
}

// play reads 64 KiB every 2 ms from the track over SMB, looping over the
// file, until stop is closed (and for at least min). A read scheduled at
// t0+i*period starts then, or at once when the player is behind; it never
// skips a read, so a stall shows as lag. Latency is each ReadAt's time;
// lag is how much later than scheduled a read started.
//
// It runs on its own goroutine, so it returns errors instead of failing.
func play(addr, user, password string, minDur time.Duration, stop <-chan struct{}) (playStats, error) {
	ctx := context.Background()
	c, err := samba.Connect(ctx, addr, "studio", user, password)
	if err != nil {
		return playStats{}, err
	}
	defer c.Close()
	f, err := c.Open(trackName)
	if err != nil {
		return playStats{}, fmt.Errorf("player open %s: %w", trackName, err)
	}
	defer f.Close()
	buf := make([]byte, playChunk)
	var lat []time.Duration
	var worst time.Duration
	late := 0
	var stopped atomic.Bool
	go func() { <-stop; stopped.Store(true) }()
	t0 := time.Now()
	for i := 0; ; i++ {
		elapsed := time.Since(t0)
		if elapsed >= minDur && stopped.Load() {
			break
		}
		due := t0.Add(time.Duration(i) * playPeriod)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		start := time.Now()
		lag := start.Sub(due)
		worst = max(worst, lag)
		if lag > playPeriod {
			late++
		}
		off := int64(i) * playChunk % trackLength
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			return playStats{}, fmt.Errorf("player read at %d: %w", off, err)
		}
		lat = append(lat, time.Since(start))
	}
	return playStats{
		Reads: len(lat), P50: percentile(lat, 50), P99: percentile(lat, 99), P999: percentile(lat, 99.9),
		WorstLag: worst, Duration: time.Since(t0), LatePct: 100 * float64(late) / float64(len(lat)),
	}, nil
}

// addPlay reports one playout session.
func (r *Report) addPlay(mode string, s playStats) {
	sc := "playout read 64 KiB / 2 ms over SMB"
	note := fmt.Sprintf("%d reads in %s, %.1f%% started late", s.Reads, s.Duration.Round(time.Millisecond), s.LatePct)
	r.value(sc, mode, "p50", "ms", ms(s.P50), "")
	r.value(sc, mode, "p99", "ms", ms(s.P99), "")
	r.value(sc, mode, "p99.9", "ms", ms(s.P999), "")
	r.value(sc, mode, "worst lag", "ms", ms(s.WorstLag), note)
}
