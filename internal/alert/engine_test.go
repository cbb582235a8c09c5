package alert

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/eventlog"
)

// clock is a settable time for Observe.
type clock struct{ t time.Time }

func (c *clock) now() time.Time         { return c.t }
func (c *clock) add(d time.Duration)    { c.t = c.t.Add(d) }
func (c *clock) set(t time.Time) func() { return func() { c.t = t } }
func newClock() *clock                  { return &clock{t: t0} }
func problem(key string, sev Severity) Problem {
	return Problem{Key: key, Rule: key, Subject: "studio", Share: "studio", Severity: sev, Message: key + " happened"}
}

// recorder is a Sender that keeps what it got and fails on demand.
type recorder struct {
	mu    sync.Mutex
	got   []Notice
	fails int // fail this many attempts before succeeding
	tries int
	perm  bool
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Send(ctx context.Context, n Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.fails > 0 {
		r.fails--
		err := errors.New("receiver down")
		if r.perm {
			err = Permanent(err)
		}
		return err
	}
	r.got = append(r.got, n)
	return nil
}
func (r *recorder) notices() []Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notice(nil), r.got...)
}

// queued drains what the engine queued for its first sender, without
// delivering: the state machine alone.
func queued(e *Engine) []string {
	var out []string
	for {
		n, ok := e.queues[0].pop()
		if !ok {
			return out
		}
		out = append(out, n.Status+" "+n.Problem.Key)
	}
}

func TestEngineStateMachine(t *testing.T) {
	guard := problem("delete_guard", Warning)
	guardCrit := problem("delete_guard", Critical)
	streak := problem("sync_failing", Warning)
	streak.For = 5 * time.Minute
	type step struct {
		advance  time.Duration
		problems []Problem
		want     []string
	}
	tests := []struct {
		name   string
		for_   time.Duration
		repeat time.Duration
		steps  []step
	}{
		{
			name: "fires once, repeats, resolves",
			for_: 0, repeat: time.Hour,
			steps: []step{
				{problems: []Problem{guard}, want: []string{"firing delete_guard"}},
				{advance: 10 * time.Second, problems: []Problem{guard}},
				{advance: 59 * time.Minute, problems: []Problem{guard}},
				{advance: 50 * time.Second, problems: []Problem{guard}, want: []string{"firing delete_guard"}},
				{advance: 10 * time.Second, problems: []Problem{guard}},
				{advance: 10 * time.Second, want: []string{"resolved delete_guard"}},
				{advance: 10 * time.Second},
			},
		},
		{
			name: "for: a blip shorter than for is never told",
			for_: time.Minute,
			steps: []step{
				{problems: []Problem{guard}},
				{advance: 30 * time.Second, problems: []Problem{guard}},
				{advance: 10 * time.Second},
				{advance: 10 * time.Second, problems: []Problem{guard}},
				{advance: 50 * time.Second, problems: []Problem{guard}},
				{advance: 10 * time.Second, problems: []Problem{guard}, want: []string{"firing delete_guard"}},
				{advance: 10 * time.Second, want: []string{"resolved delete_guard"}},
			},
		},
		{
			name: "repeat 0 never repeats",
			steps: []step{
				{problems: []Problem{guard}, want: []string{"firing delete_guard"}},
				{advance: 48 * time.Hour, problems: []Problem{guard}},
			},
		},
		{
			name: "a problem's own For outlasts the engine's",
			for_: time.Minute,
			steps: []step{
				{problems: []Problem{streak}},
				{advance: 2 * time.Minute, problems: []Problem{streak}},
				{advance: 3 * time.Minute, problems: []Problem{streak}, want: []string{"firing sync_failing"}},
			},
		},
		{
			name:   "escalation to critical is told at once, de-escalation is not",
			repeat: time.Hour,
			steps: []step{
				{problems: []Problem{guard}, want: []string{"firing delete_guard"}},
				{advance: time.Minute, problems: []Problem{guardCrit}, want: []string{"firing delete_guard"}},
				{advance: time.Minute, problems: []Problem{guard}},
				{advance: time.Hour, problems: []Problem{guard}, want: []string{"firing delete_guard"}},
			},
		},
		{
			name: "independent problems",
			steps: []step{
				{problems: []Problem{guard}, want: []string{"firing delete_guard"}},
				{advance: time.Second, problems: []Problem{guard, problem("stale", Critical)}, want: []string{"firing stale"}},
				{advance: time.Second, problems: []Problem{problem("stale", Critical)}, want: []string{"resolved delete_guard"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			e := NewEngine(Options{Senders: []Sender{&recorder{}}, For: tt.for_, Repeat: tt.repeat, Now: c.now, Log: zerolog.Nop()})
			for i, s := range tt.steps {
				c.add(s.advance)
				e.Observe(s.problems)
				require.Equal(t, s.want, queued(e), "step %d", i)
			}
		})
	}
}

func TestEngineNoticeContentAndEvents(t *testing.T) {
	c := newClock()
	events := eventlog.New(10)
	e := NewEngine(Options{Senders: []Sender{&recorder{}}, For: time.Minute, Now: c.now, Events: events,
		Appliance: "studio-box", Version: "1.2.3", Log: zerolog.Nop()})
	p := problem("delete_guard", Critical)
	e.Observe([]Problem{p})
	c.add(time.Minute)
	e.Observe([]Problem{p})
	c.add(5 * time.Minute)
	e.Observe(nil)

	fire, ok := e.queues[0].pop()
	require.True(t, ok)
	require.Equal(t, Notice{Status: Firing, Problem: p, StartedAt: t0, SentAt: t0.Add(time.Minute), Appliance: "studio-box", Version: "1.2.3"}, fire)
	res, ok := e.queues[0].pop()
	require.True(t, ok)
	require.Equal(t, Notice{Status: Resolved, Problem: p, StartedAt: t0, ResolvedAt: t0.Add(6 * time.Minute), SentAt: t0.Add(6 * time.Minute),
		Appliance: "studio-box", Version: "1.2.3"}, res)
	require.Contains(t, res.Text(), "RESOLVED: delete_guard happened")
	require.Contains(t, res.Text(), "lasted 6m0s")
	require.Contains(t, fire.Text(), "CRITICAL: delete_guard happened")

	got := events.Recent(0)
	require.Len(t, got, 2)
	require.Equal(t, "alert.resolved", got[0].Kind)
	require.Equal(t, eventlog.Info, got[0].Level)
	require.Equal(t, "alert.raised", got[1].Kind)
	require.Equal(t, eventlog.Error, got[1].Level)
	require.Equal(t, "studio", got[1].Share)
	require.Equal(t, "delete_guard happened", got[1].Message)
	require.Empty(t, e.Firing())
}

// TestEngineImmediateSkipsFor: an Immediate problem fires on the first
// evaluation that sees it, whatever the engine's "for".
func TestEngineImmediateSkipsFor(t *testing.T) {
	c := newClock()
	e := NewEngine(Options{Senders: []Sender{&recorder{}}, For: time.Hour, Now: c.now, Log: zerolog.Nop()})
	slow, urgent := problem("stale", Critical), problem("tripwire", Critical)
	urgent.Immediate = true
	e.Observe([]Problem{slow, urgent})
	fire, ok := e.queues[0].pop()
	require.True(t, ok)
	require.Equal(t, urgent.Key, fire.Problem.Key)
	require.Equal(t, t0, fire.SentAt)
	_, ok = e.queues[0].pop()
	require.False(t, ok, "the other waits out for")
}

func TestEngineDeliveryRetriesAndSurvivesFailures(t *testing.T) {
	flaky := &recorder{fails: 2}
	broken := &recorder{fails: 1 << 30}
	refused := &recorder{fails: 1, perm: true}
	events := eventlog.New(10)
	e := NewEngine(Options{Senders: []Sender{flaky, broken, refused}, Events: events, Log: zerolog.Nop(),
		RetryBase: time.Millisecond, RetryMax: 4 * time.Millisecond, MaxAttempts: 5})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()

	p := problem("smbd_down", Critical)
	observed := make(chan struct{})
	go func() { e.Observe([]Problem{p}); e.Observe(nil); close(observed) }()
	select {
	case <-observed: // Observe never waits for delivery
	case <-time.After(time.Second):
		t.Fatal("Observe blocked")
	}

	require.Eventually(t, func() bool { return len(flaky.notices()) == 2 }, 5*time.Second, time.Millisecond)
	ns := flaky.notices()
	require.Equal(t, Firing, ns[0].Status, "order is kept through retries")
	require.Equal(t, Resolved, ns[1].Status)
	require.Equal(t, 4, flaky.tries, "two failures retried, then two successes")

	// The refused notice is not retried; the next one goes through.
	require.Eventually(t, func() bool { return len(refused.notices()) == 1 }, 5*time.Second, time.Millisecond)
	require.Equal(t, Resolved, refused.notices()[0].Status)
	require.Equal(t, 2, refused.tries)

	// The broken channel gives up after MaxAttempts per notice and says so.
	require.Eventually(t, func() bool {
		broken.mu.Lock()
		defer broken.mu.Unlock()
		return broken.tries == 10
	}, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		n := 0
		for _, ev := range events.Recent(0) {
			if ev.Kind == "alert.undelivered" {
				n++
			}
		}
		return n == 3 // two for broken, one for refused
	}, 5*time.Second, time.Millisecond)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestEngineQueueIsBounded(t *testing.T) {
	c := newClock()
	e := NewEngine(Options{Senders: []Sender{&recorder{}}, QueueSize: 3, Now: c.now, Log: zerolog.Nop()})
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		e.Observe([]Problem{problem(k, Warning)})
	}
	// Each Observe fired its problem, then resolved the previous one:
	// 9 notices, the newest 3 kept.
	require.Equal(t, []string{"resolved c", "firing e", "resolved d"}, queued(e))
}

func TestSendTest(t *testing.T) {
	ok, bad := &recorder{}, &recorder{fails: 1}
	err := SendTest(context.Background(), []Sender{ok, bad}, "box", "v1", t0)
	require.EqualError(t, err, "recorder: receiver down")
	require.Len(t, ok.notices(), 1)
	n := ok.notices()[0]
	require.Equal(t, Test, n.Status)
	require.Contains(t, n.Text(), "TEST: test alert from box")
	require.Error(t, SendTest(context.Background(), nil, "box", "v1", t0))
}
