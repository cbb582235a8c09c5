package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/rs/zerolog"
)

// A target with several endpoints (S3Options.Endpoints) is one S3 whose
// members are one-endpoint S3s, nearest first: replicas of one bucket
// that the servers replicate between them (MinIO's bucket or site
// replication, or S3's cross-region replication). The appliance never
// replicates; it chooses where each request goes:
//
//   - Writes go to the first healthy endpoint that takes writes; reads to
//     the first healthy endpoint. An endpoint is healthy until a request
//     or a probe fails for a reason that is the endpoint's (no
//     connection, a timeout, a 5xx, throttling), and healthy again once
//     one succeeds (the endpoints package probes it with backoff).
//   - A request that fails on one endpoint for the endpoint's reason is
//     sent at once to the next, after one attempt: the retry budget is
//     spent only on the last endpoint in line. An upload in flight on an
//     endpoint that goes down is cancelled and starts again on the next.
//   - A read that finds nothing (404) on one endpoint asks the next: a
//     replica may not have received a new object yet. Bytes are verified
//     by the callers against the SHA-256 they expect, as from one
//     endpoint.
//   - Down endpoints stay in line after the healthy ones, in their
//     order: when every endpoint is down, requests still try them all.

// errEndpointDown cancels the requests in flight on an endpoint that a
// request or a probe found down.
var errEndpointDown = errors.New("the endpoint went down")

// member is the state of one endpoint of several. Its counters and
// health are safe for concurrent use.
type member struct {
	readOnly bool
	log      zerolog.Logger
	// impatient is the endpoint's store making one attempt per request
	// and waiting EndpointTimeout for its answer, used while another
	// endpoint is in line behind.
	impatient *S3

	requests, failures, misses atomic.Int64
	bytesRead, bytesWritten    atomic.Int64

	mu        sync.Mutex
	down      bool
	since     time.Time // when it last went down or came up; zero before either
	lastErr   string
	lastErrAt time.Time
	// gone is closed when the endpoint goes down, which cancels the
	// uploads in flight on it; a new one is made when it comes back.
	gone chan struct{}
}

// EndpointHealth is one endpoint of a target as its requests and probes
// found it.
type EndpointHealth struct {
	// URL is the endpoint's service URL.
	URL string
	// Order is its place in the target's list, from 1 (nearest).
	Order int
	// ReadOnly says it takes no writes.
	ReadOnly bool
	// Down says the last request or probe failed for the endpoint's
	// reason; Since is when it went down or came back up.
	Down  bool
	Since time.Time
	// LastError is the last failure of the endpoint's own, and when.
	LastError   string
	LastErrorAt time.Time
	// Writes says it takes the target's writes now (the first healthy
	// endpoint that takes writes).
	Writes bool
	// Requests counts the requests sent to it, Failures those that failed
	// for the endpoint's reason, Misses the reads it answered with 404
	// that another endpoint was asked next.
	Requests, Failures, Misses int64
	// BytesRead and BytesWritten count object bytes it served and took.
	BytesRead, BytesWritten int64
}

// newSeveral builds the store of a target with several endpoints: one
// member per endpoint, each taking the target's options where its own
// leave them empty.
func newSeveral(ctx context.Context, opts S3Options, log zerolog.Logger) (*S3, error) {
	s := &S3{opts: opts, log: log, verifyLocally: true, checksumsOff: new(atomic.Pointer[string]), condDeletesOff: new(atomic.Pointer[string])}
	for _, e := range opts.Endpoints {
		mo := opts
		mo.Endpoints, mo.Endpoint = nil, e.URL
		if e.Region != "" {
			mo.Region = e.Region
		}
		if e.PathStyle != nil {
			mo.PathStyle = *e.PathStyle
		}
		if e.AccessKeyID != "" || e.CredentialsFile != "" || e.Profile != "" {
			mo.AccessKeyID, mo.SecretAccessKey = e.AccessKeyID, e.SecretAccessKey
			mo.CredentialsFile, mo.Profile = e.CredentialsFile, e.Profile
		}
		elog := log.With().Str("endpoint", e.URL).Logger()
		m, err := newEndpoint(ctx, mo, &member{readOnly: e.ReadOnly, log: elog, gone: make(chan struct{})}, elog)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", e.URL, err)
		}
		s.members = append(s.members, m)
	}
	s.endpoint = s.members[0].endpoint
	return s, nil
}

// Endpoints returns the store of each endpoint, nearest first: the
// members of a target with several, or s itself. The endpoints package
// probes each (Ping, Probe); a probe of a member updates its health.
func (s *S3) Endpoints() []*S3 {
	if s.members == nil {
		return []*S3{s}
	}
	return slices.Clone(s.members)
}

// Health returns each endpoint's health, nearest first; for a target
// with one endpoint, one entry that is never down (its requests are
// retried, not failed over). Safe for concurrent use.
func (s *S3) Health() []EndpointHealth {
	if s.members == nil {
		return []EndpointHealth{{URL: s.endpoint, Order: 1, Writes: true}}
	}
	writer := s.order(true)[0]
	out := make([]EndpointHealth, 0, len(s.members))
	for i, e := range s.members {
		m := e.member
		h := EndpointHealth{
			URL: e.endpoint, Order: i + 1, ReadOnly: m.readOnly, Writes: e == writer && !m.isDown(),
			Requests: m.requests.Load(), Failures: m.failures.Load(), Misses: m.misses.Load(),
			BytesRead: m.bytesRead.Load(), BytesWritten: m.bytesWritten.Load(),
		}
		m.mu.Lock()
		h.Down, h.Since, h.LastError, h.LastErrorAt = m.down, m.since, m.lastErr, m.lastErrAt
		m.mu.Unlock()
		out = append(out, h)
	}
	return out
}

func (m *member) isDown() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.down
}

// order is the line of endpoints a request walks: the healthy ones in
// their configured order, then the down ones in theirs; for a write, only
// those that take writes.
func (s *S3) order(write bool) []*S3 {
	var up, down []*S3
	for _, e := range s.members {
		switch {
		case write && e.member.readOnly:
		case e.member.isDown():
			down = append(down, e)
		default:
			up = append(up, e)
		}
	}
	return append(up, down...)
}

// observe is the middleware that every request of a member passes
// (each view's client adds it): it counts the requests and keeps the
// endpoint's health, down after a failure of its own, up after any
// answer. It sees the transfer manager's requests one by one, whose
// errors the manager's own summary does not always keep classifiable.
func (m *member) observe(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("genesissync.EndpointHealth",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			m.requests.Add(1)
			out, md, err := next.HandleInitialize(ctx, in)
			switch {
			case err == nil:
				m.markUp()
			case ctx.Err() == nil && IsRetryable(err):
				m.markDown(fmt.Errorf("%s: %w", awsmiddleware.GetOperationName(ctx), err))
			case !IsRetryable(err) && answered(err):
				m.markUp()
			}
			return out, md, err
		}), middleware.After)
}

// answered reports whether err is the server's answer (an HTTP status),
// not a failure to get one.
func answered(err error) bool {
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() != 0
}

// markDown records that the endpoint failed for its own reason; the
// first failure after it was up logs it and cancels its uploads in
// flight.
func (m *member) markDown(err error) {
	m.failures.Add(1)
	m.mu.Lock()
	was := m.down
	m.down, m.lastErr, m.lastErrAt = true, err.Error(), time.Now()
	if !was {
		m.since = m.lastErrAt
		close(m.gone)
	}
	m.mu.Unlock()
	if !was {
		m.log.Warn().Err(err).Msg("endpoint down: its requests go to the next endpoint until it answers again")
	}
}

// markUp records that the endpoint answered; the first answer after it
// was down logs it, and it takes its place in line again.
func (m *member) markUp() {
	m.mu.Lock()
	was := m.down
	if was {
		m.down, m.since, m.gone = false, time.Now(), make(chan struct{})
	}
	m.mu.Unlock()
	if was {
		m.log.Info().Msg("endpoint answers again: back in its place in line")
	}
}

// watch returns ctx, cancelled also when the endpoint goes down (with
// errEndpointDown as its cause), and the func that releases it.
func (s *S3) watch(ctx context.Context) (context.Context, func()) {
	s.member.mu.Lock()
	gone := s.member.gone
	down := s.member.down
	s.member.mu.Unlock()
	if down { // tried as the last resort: nothing to wait for
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		select {
		case <-gone:
			cancel(errEndpointDown)
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}

// ownFault reports whether err, from a request on this endpoint made
// within the caller's ctx, is the endpoint's doing: no connection, a
// timeout, a 5xx or throttling, or the endpoint going down while the
// request ran. A cancelled caller, a refusal (403), a missing key and
// checksum verdicts are not.
func ownFault(ctx, reqCtx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(context.Cause(reqCtx), errEndpointDown) {
		return true
	}
	return IsRetryable(err)
}

// final marks an error that must not be retried on the next endpoint
// (a listing that has already handed objects to its caller).
type final struct{ err error }

func (f final) Error() string { return f.err.Error() }
func (f final) Unwrap() error { return f.err }

// via runs fn on the endpoints of s in line (see order) until one
// answers: it moves on after a failure of the endpoint's own, and for a
// read (write false) after a 404 or a 412 (another version than asked).
// It returns the last endpoint's result; a 404 there while an endpoint
// before could not answer is that endpoint's failure instead (a 404
// proves nothing while another endpoint may hold the object). fn gets
// the store to use: the
// endpoint's impatient view while another endpoint is in line behind,
// its own (full retries) on the last. again, when not nil, is asked
// before each further endpoint and stops the walk by returning false (a
// body that cannot be read again).
func via[T any](ctx context.Context, s *S3, write bool, again func() bool, fn func(context.Context, *S3) (T, error)) (T, error) {
	line := s.order(write)
	var zero T
	var unanswered, lastErr error
	for i, e := range line {
		if i > 0 && again != nil && !again() {
			return zero, lastErr
		}
		last := i == len(line)-1
		use := e
		if !last {
			use = e.member.impatient
		}
		reqCtx, release := ctx, func() {}
		if write {
			reqCtx, release = e.watch(ctx)
		}
		v, err := fn(reqCtx, use)
		own := err != nil && ownFault(ctx, reqCtx, err)
		release()
		lastErr = err
		var f final
		switch {
		case err == nil:
			return v, nil
		case errors.As(err, &f):
			return zero, f.err
		case own:
			// The endpoint's health is kept by its requests (observe).
			unanswered = err
			if !last {
				continue
			}
		case !write && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrPreconditionFailed)):
			// Not proof of absence (or of another version) while another
			// endpoint may have it; when the endpoints behind cannot
			// answer, their failure is what the caller sees.
			if !last {
				e.member.misses.Add(1)
				continue
			}
			if unanswered != nil {
				return zero, unanswered
			}
		}
		return zero, err
	}
	return zero, fmt.Errorf("bucket %q: no endpoint takes writes", s.opts.Bucket)
}

// Rewinder is a Put body that can be read again from its start, so that
// a Put that fails on one endpoint of several goes on to the next at
// once. A body that is an io.Seeker is sought back to where it started;
// any other body goes to the next endpoint on the caller's next attempt.
type Rewinder interface {
	// Rewind makes the next Read start again at the body's first byte.
	Rewind() error
}

// putVia is Put on a target with several endpoints.
func (s *S3) putVia(ctx context.Context, in PutInput) (Object, error) {
	again := func() bool { return false }
	switch b := in.Body.(type) {
	case Rewinder:
		again = func() bool { return b.Rewind() == nil }
	case io.Seeker:
		if start, err := b.Seek(0, io.SeekCurrent); err == nil {
			again = func() bool {
				_, err := b.Seek(start, io.SeekStart)
				return err == nil
			}
		}
	}
	return via(ctx, s, true, again, func(ctx context.Context, e *S3) (Object, error) {
		o, err := e.Put(ctx, in)
		if err == nil {
			e.member.bytesWritten.Add(in.Size)
		}
		return o, err
	})
}

// onEach runs fn on every endpoint that takes writes (all of them when
// write is false), in order, and joins their errors: for the janitor and
// bucket setup, which each endpoint needs on its own.
func (s *S3) onEach(write bool, fn func(*S3) error) error {
	var errs []error
	for _, e := range s.members {
		if write && e.member.readOnly {
			continue
		}
		if err := fn(e); err != nil {
			errs = append(errs, fmt.Errorf("endpoint %s: %w", e.endpoint, err))
		}
	}
	return errors.Join(errs...)
}

// got is a Get's result passed through via.
type got struct {
	body io.ReadCloser
	obj  Object
}

// countingBody counts the bytes an endpoint served into its member.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// getVia is Get, GetVersion and GetUnchecked on a target with several
// endpoints.
func (s *S3) getVia(ctx context.Context, get func(context.Context, *S3) (io.ReadCloser, Object, error)) (io.ReadCloser, Object, error) {
	g, err := via(ctx, s, false, nil, func(ctx context.Context, e *S3) (got, error) {
		body, o, err := get(ctx, e)
		if err != nil {
			return got{}, err
		}
		return got{countingBody{body, &e.member.bytesRead}, o}, nil
	})
	return g.body, g.obj, err
}

// listVia is a listing on a target with several endpoints: it goes on
// to the next endpoint only while nothing was handed to fn yet.
func listVia[T any](ctx context.Context, s *S3, list func(context.Context, *S3, func(T) error) error, fn func(T) error) error {
	_, err := via(ctx, s, false, nil, func(ctx context.Context, e *S3) (struct{}, error) {
		handed, fnErr := false, error(nil)
		err := list(ctx, e, func(v T) error {
			handed = true
			if err := fn(v); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
		switch {
		case err == nil:
			return struct{}{}, nil
		case fnErr != nil && errors.Is(err, fnErr):
			return struct{}{}, final{err: err}
		case handed:
			return struct{}{}, final{err: err}
		}
		return struct{}{}, err
	})
	return err
}

// Known is the version of a key a caller last recorded (its index
// entry): its ETag and when it was recorded. The zero value is none.
type Known struct {
	ETag string
	At   time.Time
}

// ErrReplicasBehind is returned (wrapped) by HeadLatest when an
// endpoint does not answer and those that do cannot show the key's
// current state: all hold a version older than the caller's record, or
// none holds the key. It is transient: the endpoint comes back, or the
// replication catches up.
var ErrReplicasBehind = errors.New("the endpoints that answer are behind the index's record")

// clockSkew is how far a server's LastModified may run behind the
// appliance's clock before a version counts as older than a record.
const clockSkew = 2 * time.Second

// HeadLatest is Head as the target's endpoints agree, for deciding what
// to sync, known the caller's record of key. An endpoint holding
// known.ETag answers at once (nothing changed, or the change has not
// reached it yet: it is seen once it has). Otherwise every endpoint that
// is up is asked, and the newest version among them (LastModified) wins
// over older ones and over absence. So a replica that lags, or an
// endpoint that was down while the caller wrote elsewhere, never turns
// the caller's last write back into an older version, and absence is
// believed only from every endpoint. While an endpoint does not answer
// and the others cannot show the current state (every version they hold
// is older than known.At, or a recorded key is absent), it fails with
// ErrReplicasBehind; when every endpoint answers, the newest version is
// the state, whenever it was written. When none that is up answers, it
// is Head. A target with one endpoint is one Head.
func (s *S3) HeadLatest(ctx context.Context, key string, known Known) (Object, error) {
	if s.members == nil {
		return s.Head(ctx, key)
	}
	var (
		best       *Object
		absent     bool
		unanswered []string
	)
	for _, e := range s.members {
		if e.member.isDown() {
			unanswered = append(unanswered, e.endpoint+" (down)")
			continue
		}
		o, err := e.member.impatient.Head(ctx, key)
		switch {
		case err == nil:
			if known.ETag != "" && o.ETag == known.ETag {
				return o, nil
			}
			if best == nil || o.LastModified.After(best.LastModified) {
				best = &o
			}
		case errors.Is(err, ErrNotFound):
			absent = true
		case ctx.Err() != nil:
			return Object{}, err
		default:
			unanswered = append(unanswered, e.endpoint+": "+err.Error())
		}
	}
	behind := func(what string) error {
		return fmt.Errorf("head %q: %w: %s; not answered: %s", key, ErrReplicasBehind, what, strings.Join(unanswered, "; "))
	}
	switch {
	case best != nil && len(unanswered) > 0 && known.ETag != "" && !known.At.IsZero() && best.LastModified.Add(clockSkew).Before(known.At):
		return Object{}, behind(fmt.Sprintf("the newest version answered (%s, %s) is older than the one recorded (%s, %s)",
			best.ETag, best.LastModified.UTC().Format(time.RFC3339), known.ETag, known.At.UTC().Format(time.RFC3339)))
	case best != nil:
		return *best, nil
	case absent && known.ETag != "" && len(unanswered) > 0:
		return Object{}, behind("absent where asked, but recorded")
	case absent:
		return Object{}, fmt.Errorf("head %q: %w", key, ErrNotFound)
	}
	// None up answered: the whole line, the down ones too, as Head.
	return s.Head(ctx, key)
}

// GetMatching is Get of the object at key while its ETag is etag: the
// version a caller decided on (HeadLatest). On a target with several
// endpoints, one holding another version (a replica that lags) is passed
// over for the next; ErrPreconditionFailed when none holds it any more.
// A target with one endpoint gets the current object, whose bytes are
// verified against its own metadata as with Get.
func (s *S3) GetMatching(ctx context.Context, key, etag string) (io.ReadCloser, Object, error) {
	if s.members == nil || etag == "" {
		return s.Get(ctx, key)
	}
	return s.getVia(ctx, func(ctx context.Context, e *S3) (io.ReadCloser, Object, error) { return e.get(ctx, key, etag) })
}
