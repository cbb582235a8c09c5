package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/eventlog"
)

// Engine defaults, for Options' zero fields.
const (
	DefaultQueueSize   = 64
	DefaultRetryBase   = 2 * time.Second
	DefaultRetryMax    = 5 * time.Minute
	DefaultMaxAttempts = 10 // with the defaults about 17 minutes of trying
	DefaultSendTimeout = 15 * time.Second
)

// Options configure an Engine.
type Options struct {
	// Senders are the channels every notice goes to; none is allowed
	// (raises and resolves are then only recorded in Events).
	Senders []Sender
	// For is how long a problem must persist before it fires; 0 fires on
	// the first evaluation that sees it.
	For time.Duration
	// Repeat is the interval of reminders while a problem lasts; 0 never
	// repeats.
	Repeat time.Duration
	// Appliance and Version name the box in every notice.
	Appliance string
	Version   string
	// Events receives alert.raised and alert.resolved (and
	// alert.undelivered when a channel gives up); nil drops them.
	Events *eventlog.Log
	Log    zerolog.Logger
	// Now is the clock of Observe; nil means time.Now.
	Now func() time.Time
	// QueueSize bounds each sender's queue (0 means DefaultQueueSize);
	// when it is full the oldest notice is dropped.
	QueueSize int
	// RetryBase and RetryMax bound the backoff between attempts, which
	// doubles from RetryBase (0 means DefaultRetryBase, DefaultRetryMax).
	RetryBase, RetryMax time.Duration
	// MaxAttempts per notice and sender (0 means DefaultMaxAttempts).
	MaxAttempts int
	// SendTimeout bounds one attempt (0 means DefaultSendTimeout).
	SendTimeout time.Duration
}

// Engine turns evaluations into notices: it deduplicates, waits out "for",
// repeats and resolves, and delivers in the background. Observe may be
// called from any goroutine and never blocks on delivery; Run delivers.
type Engine struct {
	o      Options
	log    zerolog.Logger
	queues []*queue

	mu     sync.Mutex
	active map[string]*tracked
}

// tracked is what the engine remembers of one problem.
type tracked struct {
	p        Problem
	started  time.Time // first seen
	firing   bool      // a firing notice went out
	lastSent time.Time // the last firing notice
	repeats  int       // firing notices sent so far, minus one
}

// NewEngine returns an engine; start delivery with Run.
func NewEngine(o Options) *Engine {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	e := &Engine{o: o, log: o.Log.With().Str("component", "alert").Logger(), active: map[string]*tracked{}}
	for _, s := range o.Senders {
		e.queues = append(e.queues, &queue{s: s, size: o.QueueSize, wake: make(chan struct{}, 1)})
	}
	return e
}

// Observe takes the complete set of problems active now (as returned by
// Evaluate): new ones start their "for" clock, persisting ones fire or
// repeat when due, and ones no longer present are resolved. Safe for
// concurrent use; it only queues notices.
func (e *Engine) Observe(problems []Problem) {
	now := e.o.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := make(map[string]bool, len(problems))
	for _, p := range problems {
		seen[p.Key] = true
		t := e.active[p.Key]
		if t == nil {
			t = &tracked{p: p, started: now}
			e.active[p.Key] = t
		}
		escalated := t.firing && rank(p.Severity) > rank(t.p.Severity)
		t.p = p
		switch {
		case !t.firing && (p.Immediate || now.Sub(t.started) >= max(e.o.For, p.For)):
			t.firing, t.lastSent = true, now
			e.record(eventlog.Event{Level: level(p.Severity), Kind: "alert.raised", Share: p.Share, Message: p.Message})
			e.enqueue(Notice{Status: Firing, Problem: p, StartedAt: t.started, SentAt: now})
		case escalated:
			t.repeats++
			t.lastSent = now
			e.record(eventlog.Event{Level: level(p.Severity), Kind: "alert.raised", Share: p.Share,
				Message: "now " + string(p.Severity) + ": " + p.Message})
			e.enqueue(Notice{Status: Firing, Problem: p, StartedAt: t.started, SentAt: now, Repeat: t.repeats})
		case t.firing && e.o.Repeat > 0 && now.Sub(t.lastSent) >= e.o.Repeat:
			t.repeats++
			t.lastSent = now
			e.enqueue(Notice{Status: Firing, Problem: p, StartedAt: t.started, SentAt: now, Repeat: t.repeats})
		}
	}
	for key, t := range e.active {
		if seen[key] {
			continue
		}
		delete(e.active, key)
		if !t.firing {
			continue // ended within "for": nobody was told, nobody needs to be
		}
		e.record(eventlog.Event{Level: eventlog.Info, Kind: "alert.resolved", Share: t.p.Share, Message: "resolved: " + t.p.Message})
		e.enqueue(Notice{Status: Resolved, Problem: t.p, StartedAt: t.started, ResolvedAt: now, SentAt: now})
	}
}

// Firing returns the problems that fired and are not resolved, in no
// particular order. Safe for concurrent use.
func (e *Engine) Firing() []Problem {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Problem
	for _, t := range e.active {
		if t.firing {
			out = append(out, t.p)
		}
	}
	return out
}

func (e *Engine) record(ev eventlog.Event) {
	e.o.Events.Add(ev)
	l := e.log.Warn()
	if ev.Level == eventlog.Info {
		l = e.log.Info()
	}
	l.Str("kind", ev.Kind).Str("share", ev.Share).Msg(ev.Message)
}

func (e *Engine) enqueue(n Notice) {
	n.Appliance, n.Version = e.o.Appliance, e.o.Version
	for _, q := range e.queues {
		if dropped, ok := q.push(n); ok {
			e.log.Warn().Str("channel", q.s.Name()).Str("key", dropped.Problem.Key).Str("status", dropped.Status).
				Msg("alert queue full: oldest notice dropped")
		}
	}
}

// Run delivers queued notices, one goroutine per sender so that a failing
// channel delays no other, until ctx ends. It always returns nil: a
// channel that fails is logged, never fatal to the daemon.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, q := range e.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.deliver(ctx, q)
		}()
	}
	wg.Wait()
	return nil
}

func (e *Engine) deliver(ctx context.Context, q *queue) {
	for {
		n, ok := q.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		if err := e.send(ctx, q.s, n); err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Error().Str("channel", q.s.Name()).Str("key", n.Problem.Key).Str("status", n.Status).Err(err).
				Msg("alert not delivered; giving up on this notice")
			e.o.Events.Add(eventlog.Event{Level: eventlog.Warning, Kind: "alert.undelivered", Share: n.Problem.Share,
				Message: fmt.Sprintf("%s notice to %s failed: %v", n.Status, q.s.Name(), err)})
		}
	}
}

// send tries one notice on one sender with backoff.
func (e *Engine) send(ctx context.Context, s Sender, n Notice) error {
	wait := e.o.RetryBase
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, e.o.SendTimeout)
		err := s.Send(sctx, n)
		cancel()
		if err == nil {
			return nil
		}
		if IsPermanent(err) || attempt >= e.o.MaxAttempts {
			return fmt.Errorf("after %d attempt(s): %w", attempt, err)
		}
		e.log.Warn().Str("channel", s.Name()).Str("key", n.Problem.Key).Int("attempt", attempt).Dur("retry_in", wait).Err(err).
			Msg("alert delivery failed; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, e.o.RetryMax)
	}
}

// SendTest sends a test notice to every sender at once and waits for all
// of them; the error names each channel that failed (no retries: a person
// is waiting for the answer).
func SendTest(ctx context.Context, senders []Sender, appliance, version string, now time.Time) error {
	if len(senders) == 0 {
		return errors.New("no alert channels are configured (alerts.telegram, alerts.webhooks)")
	}
	n := Notice{Status: Test, StartedAt: now, SentAt: now, Appliance: appliance, Version: version,
		Problem: Problem{Key: "test:" + appliance, Rule: "test", Subject: appliance, Severity: Warning,
			Message: fmt.Sprintf("test alert from %s: this channel receives GenesisSync alerts", appliance)}}
	errs := make([]error, len(senders))
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Send(ctx, n); err != nil {
				errs[i] = fmt.Errorf("%s: %w", s.Name(), err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func rank(s Severity) int {
	if s == Critical {
		return 2
	}
	return 1
}

func level(s Severity) string {
	if s == Critical {
		return eventlog.Error
	}
	return eventlog.Warning
}

// queue is one sender's bounded FIFO of notices.
type queue struct {
	s    Sender
	size int
	wake chan struct{}

	mu    sync.Mutex
	items []Notice
}

// push appends n, dropping (and returning) the oldest notice when full.
func (q *queue) push(n Notice) (Notice, bool) {
	q.mu.Lock()
	var dropped Notice
	full := len(q.items) >= q.size
	if full {
		dropped = q.items[0]
		q.items = q.items[1:]
	}
	q.items = append(q.items, n)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return dropped, full
}

func (q *queue) pop() (Notice, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return Notice{}, false
	}
	n := q.items[0]
	q.items = q.items[1:]
	return n, true
}
