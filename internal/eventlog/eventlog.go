package eventlog

import (
	"sync"
	"time"
)

// Levels of an event, from the station's point of view.
const (
	Info    = "info"    // something happened that went well
	Warning = "warning" // needs attention soon
	Error   = "error"   // something is broken now
)

// Event is one entry of the log. It is a value.
type Event struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Kind    string    `json:"kind"`            // a stable machine name, e.g. "alert.raised", "snapshot.created"
	Share   string    `json:"share,omitempty"` // empty for box-wide events
	Message string    `json:"message"`
}

// DefaultSize is how many events a Log keeps when New is given 0.
const DefaultSize = 500

// Log is a bounded, in-memory list of the newest events. All methods may
// be called concurrently.
type Log struct {
	mu     sync.Mutex
	events []Event // ring buffer
	next   int     // where the next event goes
	full   bool
	now    func() time.Time
}

// New returns a log that keeps the newest size events (0 means
// DefaultSize).
func New(size int) *Log {
	if size <= 0 {
		size = DefaultSize
	}
	return &Log{events: make([]Event, size), now: time.Now}
}

// Add records e, stamping it with the current time when e.Time is zero.
// A nil *Log drops events, so callers need no checks.
func (l *Log) Add(e Event) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	l.events[l.next] = e
	l.next = (l.next + 1) % len(l.events)
	if l.next == 0 {
		l.full = true
	}
}

// Recent returns up to n events, newest first (n <= 0 means all kept).
func (l *Log) Recent(n int) []Event {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	count := l.next
	if l.full {
		count = len(l.events)
	}
	if n <= 0 || n > count {
		n = count
	}
	out := make([]Event, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, l.events[(l.next-i+len(l.events))%len(l.events)])
	}
	return out
}
