package peers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/layout"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/periodic"
)

// Store is the part of a share's object store the heartbeats need. Its
// methods are called from the goroutine of Beat and Run.
type Store interface {
	Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error)
	Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error)
	List(ctx context.Context, prefix string, fn func(objstore.Object) error) error
}

var (
	_ Store = (*objstore.S3)(nil)
	_ Store = (*objstore.Memory)(nil)
)

const (
	// defaultEvery is Options.Every's default: a heartbeat a minute is a
	// few requests an hour, and shows a silent peer well within its
	// stale_after.
	defaultEvery = time.Minute
	// defaultStaleAfter is Options.StaleAfter's default, the same as
	// config's appliance.stale_after (a test holds them equal).
	defaultStaleAfter = 15 * time.Minute
	// stopTimeout bounds the last heartbeat, the one marking the daemon
	// stopped, on a context of its own: the daemon's has ended.
	stopTimeout = 10 * time.Second
	// MaxHeartbeat is the largest heartbeat body read; a bigger object is
	// no heartbeat of ours and is skipped.
	MaxHeartbeat = 64 << 10
)

// Heartbeat is the record an appliance keeps at Key(name) on each
// prefix it syncs with, as JSON.
type Heartbeat struct {
	// Name is the appliance's name (appliance.name), as in its key.
	Name string `json:"name"`
	// Instance is random hex drawn at each daemon start: two heartbeats
	// of one name from different instances are two daemons.
	Instance string `json:"instance"`
	// Version is the GenesisSync version the appliance runs.
	Version string `json:"version"`
	// Started is when its daemon started; LastSeen when it wrote this
	// heartbeat, both by the appliance's clock.
	Started  time.Time `json:"started"`
	LastSeen time.Time `json:"last_seen"`
	// Shares are its shares on this prefix.
	Shares []string `json:"shares"`
	// LastWrote is the last file it wrote to the bucket; absent when it
	// has written none since it started.
	LastWrote *Wrote `json:"last_wrote,omitempty"`
	// Stopped says the daemon has stopped: this was its last heartbeat.
	Stopped bool `json:"stopped"`
}

// Wrote is a file an appliance wrote to the bucket and when.
type Wrote struct {
	Path string    `json:"path"`
	At   time.Time `json:"at"`
}

// Key is the key of the heartbeat of the appliance name, relative to the
// share's prefix.
func Key(name string) string { return layout.AppliancesPrefix + name }

// Options configure a Prefix. Zero values mean the defaults.
type Options struct {
	// Name is this appliance's name (appliance.name): a valid
	// objstore.ValidWriter name, the writer of its heartbeat.
	Name string
	// Version is the GenesisSync version, told to the other appliances.
	Version string
	// Shares are this appliance's shares on the prefix.
	Shares []string
	// Every is the period of heartbeats (0: a minute).
	Every time.Duration
	// StaleAfter is how long an appliance may go without a heartbeat
	// before it is stale, and how long a duplicate stays reported after
	// the last sign of it (0: 15 minutes; appliance.stale_after).
	StaleAfter time.Duration
	// LastWrote, if set, tells the last file this appliance wrote to the
	// prefix and when (zero time: none yet). It is called from Beat's
	// goroutine at each heartbeat.
	LastWrote func() (path string, at time.Time)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives a line for each change of the heartbeat's error, each
	// duplicate and each object skipped.
	Log zerolog.Logger
}

// Prefix is this appliance's heartbeat on one bucket prefix and its view
// of the others there. New builds it; Beat or Run (one at a time: Beat
// calls are serialized) keeps it; Status may be called from any goroutine
// at any time.
type Prefix struct {
	store    Store
	o        Options
	key      string
	instance string
	started  time.Time
	log      zerolog.Logger

	// beat serializes heartbeats and guards what they keep.
	beat sync.Mutex
	// etag is the ETag of this instance's last write; written says there
	// was one, seen when, stopped whether it was the last, and wrote
	// the file it named.
	etag    string
	written bool
	seen    time.Time
	stopped bool
	wrote   *Wrote
	// others are the other appliances as last listed, by name.
	others []model.Peer
	// unconditional: the store rejects conditional writes, so heartbeats
	// go without (and duplicates go unseen).
	unconditional bool
	// cache is each peer's last heartbeat read, by name, kept while its
	// ETag stays.
	cache map[string]cached
	// loggedErr, loggedDup and loggedSkip are what was last logged, so
	// that each change is logged once.
	loggedErr, loggedDup string
	loggedSkip           map[string]bool

	mu     sync.Mutex // guards status and dupAt
	status model.Peers
	dupAt  time.Time // the last sign of the duplicate
}

// cached is a peer's heartbeat as read at one ETag, or why it is none.
type cached struct {
	etag string
	hb   Heartbeat
	bad  string
}

// New returns the heartbeat of the appliance o.Name on the prefix of
// store. Nothing is written before the first Beat.
func New(store Store, o Options) *Prefix {
	if o.Every <= 0 {
		o.Every = defaultEvery
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = defaultStaleAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Shares = slices.Clone(o.Shares)
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	p := &Prefix{
		store: store, o: o, key: Key(o.Name), instance: hex.EncodeToString(rnd[:]), started: o.Now(),
		log:   o.Log.With().Str("component", "peers").Str("appliance", o.Name).Logger(),
		cache: map[string]cached{}, loggedSkip: map[string]bool{},
	}
	p.status = model.Peers{Self: o.Name, StaleAfterSeconds: o.StaleAfter.Seconds(), Appliances: []model.Peer{p.selfPeer()}}
	return p
}

// Instance is this daemon start's instance, as its heartbeat carries it.
func (p *Prefix) Instance() string { return p.instance }

// Status is the appliances on the prefix as the last heartbeat saw them,
// this one included; a copy, the caller's to keep. Safe for concurrent
// use.
func (p *Prefix) Status() model.Peers {
	now := p.o.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	if st.Duplicate != "" && now.Sub(p.dupAt) > p.o.StaleAfter {
		st.Duplicate = ""
	}
	st.Appliances = slices.Clone(st.Appliances)
	for i := range st.Appliances {
		pe := &st.Appliances[i]
		pe.Shares = slices.Clone(pe.Shares)
		if !pe.Self {
			// The last listing may be old (a failing store).
			pe.Stale = p.stale(*pe, now)
		}
	}
	st.Skipped = slices.Clone(st.Skipped)
	return st
}

// Run writes a heartbeat and lists the others at once and every Every
// until ctx ends, then writes a last heartbeat marked stopped, on a
// context of its own bounded to 10 s. It returns that write's error.
func (p *Prefix) Run(ctx context.Context) error {
	periodic.Run(ctx, p.o.Every, func() { _ = p.Beat(ctx) })
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	return p.stop(sctx)
}

// Beat writes this appliance's heartbeat, then lists and reads the
// others'. A failure of either is kept in Status (Error, ErrorAt), logged
// when it changes and returned; the next Beat tries again. A peer's
// heartbeat that cannot be read as one is skipped and reported
// (Status().Skipped), without failing the Beat.
func (p *Prefix) Beat(ctx context.Context) error {
	p.beat.Lock()
	defer p.beat.Unlock()
	werr := p.write(ctx)
	others, skipped, lerr := p.list(ctx)
	err := errors.Join(werr, lerr)
	now := p.o.Now()

	if others != nil { // listed, if perhaps not every heartbeat read
		p.others = others
	}
	p.mu.Lock()
	if others != nil {
		p.status.Skipped, p.status.CheckedAt = skipped, now
	}
	p.status.Appliances = p.appliances()
	stopping := ctx.Err() != nil // a cut short beat is no failure to report
	switch {
	case err == nil:
		p.status.Error, p.status.ErrorAt = "", time.Time{}
	case !stopping:
		p.status.Error, p.status.ErrorAt = err.Error(), now
	}
	p.mu.Unlock()

	if !stopping {
		p.logError(err)
	}
	return err
}

// selfPeer is this appliance as a peer, as its last heartbeat written
// told it.
func (p *Prefix) selfPeer() model.Peer {
	pe := model.Peer{Name: p.o.Name, Version: p.o.Version, Self: true, Started: p.started, LastSeen: p.seen,
		Shares: slices.Clone(p.o.Shares), Stopped: p.stopped}
	if w := p.wrote; w != nil {
		pe.LastWrotePath, pe.LastWroteAt = w.Path, w.At
	}
	return pe
}

func (p *Prefix) lastWrote() *Wrote {
	if p.o.LastWrote == nil {
		return nil
	}
	path, at := p.o.LastWrote()
	if path == "" || at.IsZero() {
		return nil
	}
	return &Wrote{Path: path, At: at}
}

// appliances are the others as last listed and this one, by name.
func (p *Prefix) appliances() []model.Peer {
	self := p.selfPeer()
	i, _ := slices.BinarySearchFunc(p.others, self.Name, func(pe model.Peer, name string) int { return strings.Compare(pe.Name, name) })
	return slices.Insert(slices.Clone(p.others), i, self)
}

// stop writes the last heartbeat, marked stopped: over this instance's
// last write only. When another instance has written since, the
// heartbeat is that one's now and stays as it is.
func (p *Prefix) stop(ctx context.Context) error {
	p.beat.Lock()
	defer p.beat.Unlock()
	if !p.written {
		return nil // nothing of ours to mark
	}
	now := p.o.Now()
	in, wrote, err := p.putInput(now, true)
	if err != nil {
		return err
	}
	if !p.unconditional {
		in.IfMatch = p.etag
	}
	_, err = p.store.Put(ctx, in)
	switch {
	case errors.Is(err, objstore.ErrPreconditionFailed):
		p.log.Info().Str("key", p.key).Msg("not marking the heartbeat stopped: another instance of this appliance has written it since")
		return nil
	case err != nil:
		err = fmt.Errorf("heartbeat: %w", err)
		p.mu.Lock()
		p.status.Error, p.status.ErrorAt = err.Error(), now
		p.mu.Unlock()
		return err
	}
	p.seen, p.stopped, p.wrote = now, true, wrote
	p.mu.Lock()
	p.status.Appliances = p.appliances()
	p.mu.Unlock()
	return nil
}

// putInput is the heartbeat at now as an upload, without conditions,
// and the file it names as written last.
func (p *Prefix) putInput(now time.Time, stopped bool) (objstore.PutInput, *Wrote, error) {
	hb := Heartbeat{Name: p.o.Name, Instance: p.instance, Version: p.o.Version, Started: p.started.UTC(), LastSeen: now.UTC(),
		Shares: p.o.Shares, LastWrote: p.lastWrote(), Stopped: stopped}
	if hb.Shares == nil {
		hb.Shares = []string{}
	}
	if hb.LastWrote != nil {
		hb.LastWrote.At = hb.LastWrote.At.UTC()
	}
	body, err := json.Marshal(hb)
	if err != nil {
		return objstore.PutInput{}, nil, fmt.Errorf("heartbeat: %w", err)
	}
	sum := sha256.Sum256(body)
	return objstore.PutInput{Key: p.key, Body: bytes.NewReader(body), Size: int64(len(body)),
		SHA256: hex.EncodeToString(sum[:]), Writer: p.o.Name}, hb.LastWrote, nil
}

// write writes this appliance's heartbeat: a create at first, then a
// replace of its own last write. A refusal is looked into (see the
// package's doc).
func (p *Prefix) write(ctx context.Context) error {
	now := p.o.Now()
	put := func(ifAbsent bool, ifMatch string) error {
		in, wrote, err := p.putInput(now, false)
		if err != nil {
			return err
		}
		if !p.unconditional {
			in.IfAbsent, in.IfMatch = ifAbsent, ifMatch
		}
		obj, err := p.store.Put(ctx, in)
		if err != nil {
			return err
		}
		p.etag, p.written, p.seen, p.stopped, p.wrote = obj.ETag, true, now, false, wrote
		return nil
	}

	first := !p.written
	err := put(first, p.etag)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, objstore.ErrPreconditionFailed):
		if p.unconditional || !rejectsConditions(ctx, err) {
			return fmt.Errorf("heartbeat: %w", err)
		}
		// Perhaps the store rejects the condition itself: try without.
		if err2 := put(false, ""); err2 != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		p.unconditional = true
		p.log.Warn().Err(err).Str("key", p.key).Msg("the store rejects conditional writes: heartbeats are written without, and another appliance with this name would go unseen")
		return nil
	}

	// Someone else's write is at our key: an earlier start's, another
	// instance's since our last write, or ours whose answer was lost.
	hb, cur, bad, err := p.read(ctx, p.key)
	if errors.Is(err, objstore.ErrNotFound) {
		err = put(true, "") // removed since: create it again
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	switch {
	case bad != "":
		p.log.Warn().Str("key", p.key).Str("problem", bad).Msg("replacing what is at this appliance's heartbeat: it is no heartbeat")
	case hb.Instance == p.instance:
		// Our own write, its answer lost on the way.
	default:
		seen := cur.LastModified
		if seen.IsZero() {
			seen = hb.LastSeen
		}
		live := !hb.Stopped && now.Sub(seen) <= p.o.StaleAfter
		if live && !first {
			// It wrote after our last write: two live daemons by one name.
			p.duplicate(now, hb)
			break
		}
		msg := "taking over this appliance's heartbeat from an earlier instance (stopped or stale)"
		if live {
			msg = "taking over a live heartbeat of this appliance's name from another instance: a restart after a crash, or another appliance with this name, which then shows as a duplicate at its next heartbeat"
		}
		p.log.Info().Str("key", p.key).Str("instance", hb.Instance).Str("version", hb.Version).
			Time("started", hb.Started).Time("last_seen", hb.LastSeen).Bool("stopped", hb.Stopped).Msg(msg)
	}
	if err := put(false, cur.ETag); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// rejectsConditions reports whether err, from a conditional write, may
// be the store refusing the condition itself: a permanent error that is
// none of ours.
func rejectsConditions(ctx context.Context, err error) bool {
	if ctx.Err() != nil || objstore.IsRetryable(err) {
		return false
	}
	for _, e := range []error{objstore.ErrNotFound, objstore.ErrInvalidInput, objstore.ErrInvalidKey, objstore.ErrChecksumHeadersRefused,
		objstore.ErrChecksumMismatch, objstore.ErrSizeMismatch} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// duplicate records that another live instance, hb, writes this
// appliance's heartbeat.
func (p *Prefix) duplicate(now time.Time, hb Heartbeat) {
	msg := fmt.Sprintf("another appliance named %s is live on this prefix (version %s, started %s, last seen %s, instance %s): "+
		"the two overwrite each other's heartbeat and name the same writer in what they write; give one of them another appliance.name",
		p.o.Name, orUnknown(short(hb.Version)), when(hb.Started), when(hb.LastSeen), orUnknown(short(hb.Instance)))
	p.mu.Lock()
	p.status.Duplicate, p.dupAt = msg, now
	p.mu.Unlock()
	if hb.Instance != p.loggedDup {
		p.loggedDup = hb.Instance
		p.log.Error().Str("key", p.key).Str("instance", hb.Instance).Str("version", hb.Version).
			Time("started", hb.Started).Time("last_seen", hb.LastSeen).Msg(msg)
	}
}

func when(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// short is s, another appliance's text, cut to fit in a sentence.
func short(s string) string {
	const most = 40
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// read reads the heartbeat at key: bad says why it is none (too big, not
// JSON) when the object could be read; err is a store's error.
func (p *Prefix) read(ctx context.Context, key string) (hb Heartbeat, obj objstore.Object, bad string, err error) {
	rc, obj, err := p.store.Get(ctx, key)
	if err != nil {
		return Heartbeat{}, obj, "", err
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, MaxHeartbeat+1))
	if err != nil {
		return Heartbeat{}, obj, "", fmt.Errorf("read %q: %w", key, err)
	}
	if len(body) > MaxHeartbeat {
		return Heartbeat{}, obj, fmt.Sprintf("larger than %d KiB", MaxHeartbeat>>10), nil
	}
	if err := json.Unmarshal(body, &hb); err != nil {
		return Heartbeat{}, obj, fmt.Sprintf("not a heartbeat: %v", err), nil
	}
	return hb, obj, "", nil
}

// list lists the other appliances' heartbeats and reads those that
// changed: the peers by name (without this one), the objects skipped,
// and an error of the store. With a failure to read a heartbeat the
// peer is still listed, from the listing alone.
func (p *Prefix) list(ctx context.Context) ([]model.Peer, []string, error) {
	var objs []objstore.Object
	if err := p.store.List(ctx, layout.AppliancesPrefix, func(o objstore.Object) error {
		objs = append(objs, o)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("list appliances: %w", err)
	}
	now := p.o.Now()
	var (
		peers   = []model.Peer{}
		skipped []string
		errs    []error
		seen    = map[string]bool{}
	)
	skip := func(key, why string) {
		msg := fmt.Sprintf("%s: %s", key, why)
		skipped = append(skipped, msg)
		seen[msg] = true
		if !p.loggedSkip[msg] {
			p.log.Warn().Str("key", key).Str("problem", why).Msg("skipping an object among the appliances' heartbeats")
		}
	}
	names := map[string]bool{}
	for _, o := range objs {
		name := strings.TrimPrefix(o.Key, layout.AppliancesPrefix)
		if name == p.o.Name {
			continue
		}
		if !objstore.ValidWriter(name) {
			skip(o.Key, fmt.Sprintf("%q is no appliance name", name))
			continue
		}
		if o.Size > MaxHeartbeat {
			skip(o.Key, fmt.Sprintf("larger than %d KiB", MaxHeartbeat>>10))
			continue
		}
		names[name] = true
		c, ok := p.cache[name]
		if !ok || c.etag == "" || c.etag != o.ETag {
			hb, got, bad, err := p.read(ctx, o.Key)
			switch {
			case errors.Is(err, objstore.ErrNotFound):
				delete(p.cache, name)
				continue // removed since the listing
			case err != nil:
				errs = append(errs, fmt.Errorf("read heartbeat of %s: %w", name, err))
				delete(p.cache, name)
				peers = append(peers, p.peer(name, o, Heartbeat{}, now))
				continue
			}
			if bad == "" && hb.Name != name {
				bad = fmt.Sprintf("its record names %q", hb.Name)
			}
			c = cached{etag: got.ETag, hb: hb, bad: bad}
			p.cache[name] = c
		}
		if c.bad != "" {
			skip(o.Key, c.bad)
			continue
		}
		peers = append(peers, p.peer(name, o, c.hb, now))
	}
	for name := range p.cache {
		if !names[name] {
			delete(p.cache, name)
		}
	}
	p.loggedSkip = seen
	return peers, skipped, errors.Join(errs...)
}

// peer is the appliance name from its listed object o and its heartbeat
// hb (zero when it could not be read).
func (p *Prefix) peer(name string, o objstore.Object, hb Heartbeat, now time.Time) model.Peer {
	pe := model.Peer{Name: name, Version: hb.Version, Started: hb.Started, LastSeen: o.LastModified,
		Shares: hb.Shares, Stopped: hb.Stopped}
	if pe.LastSeen.IsZero() {
		pe.LastSeen = hb.LastSeen
	}
	if w := hb.LastWrote; w != nil {
		pe.LastWrotePath, pe.LastWroteAt = w.Path, w.At
	}
	pe.Stale = p.stale(pe, now)
	return pe
}

// stale reports whether the peer pe is silent at now: not stopped, its
// heartbeat older than StaleAfter.
func (p *Prefix) stale(pe model.Peer, now time.Time) bool {
	return !pe.Stopped && now.Sub(pe.LastSeen) > p.o.StaleAfter
}

// logError logs err when it differs from the last one logged, and the
// recovery once.
func (p *Prefix) logError(err error) {
	switch {
	case err == nil && p.loggedErr != "":
		p.loggedErr = ""
		p.log.Info().Str("key", p.key).Msg("heartbeat and listing of the appliances work again")
	case err != nil && err.Error() != p.loggedErr:
		p.loggedErr = err.Error()
		p.log.Warn().Err(err).Str("key", p.key).Msg("heartbeat failed; trying again at the next one")
	}
}
