package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

// notifySocket listens where systemd would and returns what arrives.
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return msgs
}

// next returns the next message, failing after a second.
func next(t *testing.T, msgs <-chan string) string {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(time.Second):
		t.Fatal("no notify message within 1s")
		return ""
	}
}

func TestWatchdogPingsOnlyWhileAlive(t *testing.T) {
	msgs := notifySocket(t)
	const interval = 200 * time.Millisecond
	t.Setenv("WATCHDOG_USEC", strconv.Itoa(int(interval/time.Microsecond)))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	var stuck atomic.Bool
	var gotWithin atomic.Int64
	stalled := func(within time.Duration) []string {
		gotWithin.Store(int64(within))
		if stuck.Load() {
			return []string{"studio"}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- watchdog(ctx, zerolog.Nop(), stalled) }()

	// Alive: a ping at once, then one every half interval.
	start := time.Now()
	require.Equal(t, "WATCHDOG=1", next(t, msgs))
	require.Equal(t, "WATCHDOG=1", next(t, msgs))
	require.Equal(t, "WATCHDOG=1", next(t, msgs))
	require.GreaterOrEqual(t, time.Since(start), interval/2, "pings are interval/2 apart, not faster")
	require.Equal(t, int64(interval), gotWithin.Load(), "a pipeline is stuck after a whole interval without a round")

	// Stuck: the pings stop, systemd is told why.
	stuck.Store(true)
	m := next(t, msgs)
	for m == "WATCHDOG=1" { // a ping already under way
		m = next(t, msgs)
	}
	require.Equal(t, "STATUS=share pipeline stuck: studio", m)
	select {
	case m := <-msgs:
		t.Fatalf("message %q while stuck", m)
	case <-time.After(2 * interval):
	}

	// Moving again: pings resume.
	stuck.Store(false)
	require.True(t, strings.HasPrefix(next(t, msgs), "STATUS=running"))
	require.Equal(t, "WATCHDOG=1", next(t, msgs))

	cancel()
	require.NoError(t, <-done)
	for m := next(t, msgs); m != "STOPPING=1"; m = next(t, msgs) {
		require.Equal(t, "WATCHDOG=1", m)
	}
}

func TestWatchdogStuckStatus(t *testing.T) {
	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- watchdog(ctx, zerolog.Nop(), func(time.Duration) []string { return []string{"news", "studio"} })
	}()
	require.Equal(t, "STATUS=share pipeline stuck: news, studio", next(t, msgs))
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, "STOPPING=1", next(t, msgs))
}

func TestWatchdogOtherProcessOrOff(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"no watchdog":           {"WATCHDOG_USEC": ""},
		"watchdog for a parent": {"WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"},
	} {
		t.Run(name, func(t *testing.T) {
			msgs := notifySocket(t)
			for k, v := range env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- watchdog(ctx, zerolog.Nop(), func(time.Duration) []string { return nil })
			}()
			select {
			case m := <-msgs:
				t.Fatalf("message %q without a watchdog", m)
			case <-time.After(300 * time.Millisecond):
			}
			cancel()
			require.NoError(t, <-done)
			require.Equal(t, "STOPPING=1", next(t, msgs))
		})
	}
}

func TestWatchdogOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, watchdog(ctx, zerolog.Nop(), func(time.Duration) []string { return nil }))
}
