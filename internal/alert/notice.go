package alert

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Notice statuses.
const (
	Firing   = "firing"
	Resolved = "resolved"
	Test     = "test"
)

// Notice is one message about one problem, as every sender receives it. It
// is a value.
type Notice struct {
	// Status is firing, resolved or test.
	Status  string
	Problem Problem
	// StartedAt is when the problem was first seen (before "for").
	StartedAt time.Time
	// ResolvedAt is when it was last seen, for resolved notices.
	ResolvedAt time.Time
	// SentAt is when the engine queued the notice.
	SentAt time.Time
	// Repeat counts earlier firing notices of the same problem (0 for
	// the first).
	Repeat int
	// Appliance and Version name the box the notice comes from.
	Appliance string
	Version   string
}

// Text renders the notice for a chat message: plain text, no markup.
func (n Notice) Text() string {
	var b strings.Builder
	p := n.Problem
	switch n.Status {
	case Firing:
		icon := "🟠"
		if p.Severity == Critical {
			icon = "🔴"
		}
		again := ""
		if n.Repeat > 0 {
			again = " (still)"
		}
		fmt.Fprintf(&b, "%s %s%s: %s\n", icon, strings.ToUpper(string(p.Severity)), again, p.Message)
		fmt.Fprintf(&b, "since %s (%s)", n.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), roundDur(n.SentAt.Sub(n.StartedAt)))
	case Resolved:
		fmt.Fprintf(&b, "✅ RESOLVED: %s\n", p.Message)
		fmt.Fprintf(&b, "lasted %s", roundDur(n.ResolvedAt.Sub(n.StartedAt)))
	default:
		fmt.Fprintf(&b, "🔔 TEST: %s", p.Message)
	}
	if len(p.Details) > 0 && n.Status != Test {
		keys := make([]string, 0, len(p.Details))
		for k := range p.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "\n%s: %s", k, p.Details[k])
		}
	}
	fmt.Fprintf(&b, "\n[%s] %s · GenesisSync %s", p.Key, n.Appliance, n.Version)
	return b.String()
}

func roundDur(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d.Round(time.Second)
}

// Sender delivers notices to one channel. Send may be called from one
// goroutine at a time per sender; it must honour ctx and must never return
// an error that contains a secret. Its errors need not name the channel:
// callers prefix Name().
type Sender interface {
	// Name names the channel in logs, without secrets ("telegram chat
	// 42", "webhook https://hooks.example.com").
	Name() string
	Send(ctx context.Context, n Notice) error
}

// permanentError marks a failure that retrying cannot fix (the receiver
// refused the request as malformed or unauthorized).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
