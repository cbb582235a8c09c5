package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
)

// clock is an Options.Now ahead of the real time by a settable offset:
// objstore.Memory stamps LastModified with the real time, so a heartbeat
// ages by moving the appliance's clock past it.
type clock struct{ ahead atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *clock) advance(d time.Duration) { c.ahead.Add(int64(d)) }
func newClock(ahead time.Duration) *clock {
	c := &clock{}
	c.advance(ahead)
	return c
}

// recording is the real in-memory store, with the conditions of each Put
// noted.
type recording struct {
	*objstore.Memory
	mu   sync.Mutex
	puts []objstore.PutInput // Key, IfAbsent, IfMatch, Writer
}

func (r *recording) Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error) {
	r.mu.Lock()
	r.puts = append(r.puts, objstore.PutInput{Key: in.Key, IfAbsent: in.IfAbsent, IfMatch: in.IfMatch, Writer: in.Writer})
	r.mu.Unlock()
	return r.Memory.Put(ctx, in)
}

func (r *recording) last() objstore.PutInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.puts[len(r.puts)-1]
}

const stale = 15 * time.Minute

func opts(name string, c *clock) Options {
	return Options{Name: name, Version: "1.4.0", Shares: []string{"studio"}, StaleAfter: stale, Now: c.now}
}

// stored is the heartbeat at name's key and its object.
func stored(t *testing.T, m *objstore.Memory, name string) (Heartbeat, objstore.Object) {
	t.Helper()
	rc, o, err := m.Get(context.Background(), Key(name))
	require.NoError(t, err)
	defer rc.Close()
	var hb Heartbeat
	require.NoError(t, json.NewDecoder(rc).Decode(&hb))
	return hb, o
}

func beat(t *testing.T, ps ...*Prefix) {
	t.Helper()
	for _, p := range ps {
		require.NoError(t, p.Beat(context.Background()))
	}
}

func TestDefaultsAreConfigs(t *testing.T) {
	require.Equal(t, config.DefaultApplianceStaleAfter, defaultStaleAfter)
	p := New(objstore.NewMemory(), Options{Name: "studio-a"})
	require.Equal(t, time.Minute, p.o.Every)
	require.Equal(t, 15*time.Minute, p.o.StaleAfter)
	require.Regexp(t, `^[0-9a-f]{16}$`, p.Instance())
	require.NotEqual(t, p.Instance(), New(objstore.NewMemory(), Options{Name: "studio-a"}).Instance(), "random per start")
}

// TestFirstBeatCreatesThenReplacesItsOwn: the first heartbeat is a
// create if absent, the next a replace of the ETag it wrote; the record
// says who, what and when, and names its writer.
func TestFirstBeatCreatesThenReplacesItsOwn(t *testing.T) {
	c := newClock(0)
	store := &recording{Memory: objstore.NewMemory()}
	o := opts("studio-a", c)
	o.LastWrote = func() (string, time.Time) { return "Music/a.mp3", time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC) }
	p := New(store, o)

	beat(t, p)
	require.Equal(t, objstore.PutInput{Key: ".genesissync/appliances/studio-a", IfAbsent: true, Writer: "studio-a"}, store.last())
	hb, obj := stored(t, store.Memory, "studio-a")
	require.Equal(t, "studio-a", obj.Writer)
	require.Equal(t, "studio-a", hb.Name)
	require.Equal(t, p.Instance(), hb.Instance)
	require.Equal(t, "1.4.0", hb.Version)
	require.Equal(t, []string{"studio"}, hb.Shares)
	require.Equal(t, &Wrote{Path: "Music/a.mp3", At: time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC)}, hb.LastWrote)
	require.False(t, hb.Stopped)
	first := hb.LastSeen

	st := p.Status()
	require.Empty(t, st.Error)
	require.Empty(t, st.Duplicate)
	require.Equal(t, "studio-a", st.Self)
	require.Equal(t, 900.0, st.StaleAfterSeconds)
	require.False(t, st.CheckedAt.IsZero())
	require.Len(t, st.Appliances, 1)
	self := st.Appliances[0]
	require.True(t, self.Self)
	require.Equal(t, "live", self.State())
	require.Equal(t, "Music/a.mp3", self.LastWrotePath)
	require.WithinDuration(t, first, self.LastSeen, 0)

	c.advance(time.Minute)
	beat(t, p)
	require.Equal(t, objstore.PutInput{Key: Key("studio-a"), IfMatch: obj.ETag, Writer: "studio-a"}, store.last())
	hb, _ = stored(t, store.Memory, "studio-a")
	require.Equal(t, p.Instance(), hb.Instance)
	require.True(t, hb.LastSeen.After(first.Add(59*time.Second)), "the second heartbeat is newer")
	require.Empty(t, p.Status().Duplicate)
}

// TestHeartbeatJSON: the record as other appliances (and people) read it.
func TestHeartbeatJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := objstore.NewMemory()
	p := New(m, Options{Name: "studio-a", Version: "1.4.0", Shares: []string{"studio"}, Now: func() time.Time { return at },
		LastWrote: func() (string, time.Time) { return "Music/a.mp3", at.Add(-time.Minute) }})
	beat(t, p)
	rc, _, err := m.Get(context.Background(), Key("studio-a"))
	require.NoError(t, err)
	body, _ := io.ReadAll(rc)
	require.JSONEq(t, `{"name": "studio-a", "instance": "`+p.Instance()+`", "version": "1.4.0",
		"started": "2026-03-01T12:00:00Z", "last_seen": "2026-03-01T12:00:00Z", "shares": ["studio"],
		"last_wrote": {"path": "Music/a.mp3", "at": "2026-03-01T11:59:00Z"}, "stopped": false}`, string(body))

	p = New(objstore.NewMemory(), Options{Name: "studio-b", Now: func() time.Time { return at }})
	in, _, err := p.putInput(at, true)
	require.NoError(t, err)
	body, _ = io.ReadAll(in.Body)
	require.NotContains(t, string(body), "last_wrote", "nothing written yet")
	require.Contains(t, string(body), `"shares":[]`)
	require.Contains(t, string(body), `"stopped":true`)
}

// TestDuplicateName: two daemons by one name on one prefix overwrite
// each other's heartbeat; each finds the other's at its next one and
// reports the duplicate, which clears StaleAfter after the last
// overwrite.
func TestDuplicateName(t *testing.T) {
	m := objstore.NewMemory()
	ca, cb := newClock(0), newClock(0)
	oa, ob := opts("studio-a", ca), opts("studio-a", cb)
	ob.Version = "1.5.0"
	a, b := New(m, oa), New(m, ob)

	beat(t, a, b)
	require.Empty(t, a.Status().Duplicate, "a has not written again yet")
	require.Empty(t, b.Status().Duplicate, "b took over a live heartbeat: perhaps its own before a crash")

	beat(t, a)
	dup := a.Status().Duplicate
	require.Contains(t, dup, "another appliance named studio-a is live on this prefix")
	require.Contains(t, dup, "version 1.5.0")
	require.Contains(t, dup, "instance "+b.Instance())
	require.Contains(t, dup, "started "+when(b.started))

	beat(t, b)
	dup = b.Status().Duplicate
	require.Contains(t, dup, "another appliance named studio-a is live on this prefix (version 1.4.0, started "+when(a.started))
	require.Contains(t, dup, "instance "+a.Instance())
	require.Empty(t, a.Status().Error, "a duplicate is no error: both keep writing")
	require.Empty(t, b.Status().Error)
	for _, p := range []*Prefix{a, b} {
		st := p.Status()
		require.Len(t, st.Appliances, 1, "a twin is no other appliance")
		require.True(t, st.Appliances[0].Self)
	}
	hb, _ := stored(t, m, "studio-a")
	require.Equal(t, b.Instance(), hb.Instance, "each keeps writing, so the other sees it too")

	// b goes silent; a's later heartbeats find b's stale and take over.
	ca.advance(stale + time.Second)
	beat(t, a)
	require.Empty(t, a.Status().Duplicate, "cleared StaleAfter after the last overwrite")
	hb, _ = stored(t, m, "studio-a")
	require.Equal(t, a.Instance(), hb.Instance)
}

// TestTakeOver: a heartbeat of this name that is stale, stopped, or live
// but never written again (a crash just before a restart) is taken over
// without a duplicate.
func TestTakeOver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		old   func(t *testing.T, old *Prefix)
		ahead time.Duration // the new instance's clock
		log   string
	}{
		{name: "stale", old: func(t *testing.T, old *Prefix) { beat(t, old) }, ahead: stale + time.Minute, log: "(stopped or stale)"},
		{name: "stopped", old: func(t *testing.T, old *Prefix) {
			beat(t, old)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			require.NoError(t, old.Run(ctx))
			hb, _ := stored(t, old.store.(*objstore.Memory), "studio-a")
			require.True(t, hb.Stopped)
		}, log: "(stopped or stale)"},
		{name: "live, after a crash", old: func(t *testing.T, old *Prefix) { beat(t, old) }, log: "a restart after a crash, or another appliance with this name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := objstore.NewMemory()
			tc.old(t, New(m, opts("studio-a", newClock(0))))
			var logs bytes.Buffer
			o := opts("studio-a", newClock(tc.ahead))
			o.Log = zerolog.New(&logs)
			p := New(m, o)
			beat(t, p, p, p)
			st := p.Status()
			require.Empty(t, st.Duplicate)
			require.Empty(t, st.Error)
			hb, _ := stored(t, m, "studio-a")
			require.Equal(t, p.Instance(), hb.Instance)
			require.Contains(t, logs.String(), tc.log)
			require.Equal(t, 1, strings.Count(logs.String(), "taking over"), "once")
		})
	}
}

// TestPeers: another appliance on the prefix is listed with what its
// heartbeat says, stale once silent past StaleAfter by the store's time,
// and stopped (not stale) once its daemon stopped.
func TestPeers(t *testing.T) {
	m := objstore.NewMemory()
	ca := newClock(0)
	a := New(m, opts("studio-b", ca)) // sorts after studio-a
	ob := opts("studio-a", newClock(0))
	ob.Version, ob.Shares = "1.3.2", []string{"studio", "news"}
	ob.LastWrote = func() (string, time.Time) { return "news/0800.mp3", time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) }
	b := New(m, ob)
	beat(t, a, b, a)

	st := a.Status()
	require.Len(t, st.Appliances, 2)
	other, self := st.Appliances[0], st.Appliances[1]
	require.True(t, self.Self)
	require.Equal(t, "studio-b", self.Name)
	require.Equal(t, "studio-a", other.Name)
	require.False(t, other.Self)
	require.Equal(t, "1.3.2", other.Version)
	require.Equal(t, []string{"studio", "news"}, other.Shares)
	require.Equal(t, "news/0800.mp3", other.LastWrotePath)
	require.Equal(t, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), other.LastWroteAt)
	require.WithinDuration(t, b.started, other.Started, time.Microsecond)
	_, obj := stored(t, m, "studio-a")
	require.Equal(t, obj.LastModified, other.LastSeen, "by the store's clock")
	require.Equal(t, "live", other.State())
	require.Empty(t, st.Skipped)

	ca.advance(stale - time.Second)
	beat(t, a)
	require.Equal(t, "live", a.Status().Appliances[0].State(), "within StaleAfter")
	ca.advance(2 * time.Second)
	beat(t, a)
	other = a.Status().Appliances[0]
	require.True(t, other.Stale)
	require.Equal(t, "stale", other.State())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, b.Run(ctx))
	beat(t, a)
	other = a.Status().Appliances[0]
	require.True(t, other.Stopped)
	require.False(t, other.Stale, "a stopped appliance is not silent")
	require.Equal(t, "stopped", other.State())
	self = b.Status().Appliances[0]
	require.True(t, self.Self)
	require.True(t, self.Stopped, "its own view after Run")
}

// TestRunMarksStopped: Run beats at once and every Every; when its
// context ends it writes a last heartbeat marked stopped.
func TestRunMarksStopped(t *testing.T) {
	store := &recording{Memory: objstore.NewMemory()}
	o := opts("studio-a", newClock(0))
	o.Every = 5 * time.Millisecond
	p := New(store, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return len(store.puts) >= 3
	}, 10*time.Second, time.Millisecond)
	hb, obj := stored(t, store.Memory, "studio-a")
	require.False(t, hb.Stopped)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	hb, last := stored(t, store.Memory, "studio-a")
	require.True(t, hb.Stopped)
	require.Equal(t, p.Instance(), hb.Instance)
	require.NotEqual(t, obj.ETag, last.ETag)
	require.True(t, p.Status().Appliances[0].Stopped)
	require.Empty(t, p.Status().Error, "the beat cut short by the end is no failure")
}

// TestStopLeavesOthersHeartbeat: the stopped mark goes only over this
// instance's own last write: nothing when it never wrote, and a twin's
// heartbeat written since stays.
func TestStopLeavesOthersHeartbeat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := objstore.NewMemory()
	require.NoError(t, New(m, opts("studio-a", newClock(0))).Run(ctx), "never written: nothing to mark")
	_, _, err := m.Get(context.Background(), Key("studio-a"))
	require.ErrorIs(t, err, objstore.ErrNotFound)

	a, b := New(m, opts("studio-a", newClock(0))), New(m, opts("studio-a", newClock(0)))
	beat(t, a, b)
	require.NoError(t, a.Run(ctx))
	hb, _ := stored(t, m, "studio-a")
	require.Equal(t, b.Instance(), hb.Instance, "the twin's heartbeat stays")
	require.False(t, hb.Stopped)
}

// TestSkipped: objects under the appliances' folder that are no
// heartbeat are skipped and reported, logged once; the beat succeeds and
// the good peers are listed.
func TestSkipped(t *testing.T) {
	m := objstore.NewMemory()
	m.PutForeign(layout.AppliancesPrefix+"studio-c", []byte("not json"), "")
	m.PutForeign(layout.AppliancesPrefix+"studio-d", bytes.Repeat([]byte(" "), MaxHeartbeat+1), "")
	m.PutForeign(layout.AppliancesPrefix+"Studio_E", []byte(`{}`), "")
	m.PutForeign(layout.AppliancesPrefix+"sub/studio-f", []byte(`{}`), "")
	m.PutForeign(layout.AppliancesPrefix+"studio-g", []byte(`{"name": "studio-x"}`), "")
	beat(t, New(m, opts("studio-b", newClock(0))))

	var logs bytes.Buffer
	o := opts("studio-a", newClock(0))
	o.Log = zerolog.New(&logs)
	p := New(m, o)
	beat(t, p, p)
	st := p.Status()
	require.Empty(t, st.Error)
	require.Equal(t, []string{
		`.genesissync/appliances/Studio_E: "Studio_E" is no appliance name`,
		`.genesissync/appliances/studio-c: not a heartbeat: invalid character 'o' in literal null (expecting 'u')`,
		`.genesissync/appliances/studio-d: larger than 64 KiB`,
		`.genesissync/appliances/studio-g: its record names "studio-x"`,
		`.genesissync/appliances/sub/studio-f: "sub/studio-f" is no appliance name`,
	}, st.Skipped)
	require.Len(t, st.Appliances, 2)
	require.Equal(t, "studio-a", st.Appliances[0].Name)
	require.Equal(t, "studio-b", st.Appliances[1].Name)
	require.Equal(t, 5, strings.Count(logs.String(), "skipping an object"), "each logged once")
}

// failing is the real in-memory store whose Puts fail while err is set
// (with the write done first when done is set: an answer lost).
type failing struct {
	*objstore.Memory
	mu   sync.Mutex
	err  error
	done bool
	cond error // returned for conditional Puts only
}

func (f *failing) Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error) {
	f.mu.Lock()
	err, done, cond := f.err, f.done, f.cond
	f.mu.Unlock()
	if cond != nil && (in.IfAbsent || in.IfMatch != "") {
		return objstore.Object{}, cond
	}
	if err == nil {
		return f.Memory.Put(ctx, in)
	}
	if done {
		_, _ = f.Memory.Put(ctx, in)
	}
	return objstore.Object{}, err
}

func (f *failing) set(err error, done bool) {
	f.mu.Lock()
	f.err, f.done = err, done
	f.mu.Unlock()
}

// TestStoreErrors: a failed heartbeat is in Status with its time, logged
// once per change, and cleared by the next one that works; a write whose
// answer was lost is recognised as ours, not a twin's.
func TestStoreErrors(t *testing.T) {
	var logs bytes.Buffer
	store := &failing{Memory: objstore.NewMemory()}
	o := opts("studio-a", newClock(0))
	o.Log = zerolog.New(&logs)
	p := New(store, o)
	boom := errors.New("connection refused")
	store.set(boom, false)
	require.ErrorIs(t, p.Beat(context.Background()), boom)
	require.ErrorIs(t, p.Beat(context.Background()), boom)
	st := p.Status()
	require.Equal(t, "heartbeat: connection refused", st.Error)
	require.False(t, st.ErrorAt.IsZero())
	require.False(t, st.CheckedAt.IsZero(), "the listing worked")
	require.Equal(t, 1, strings.Count(logs.String(), "heartbeat failed"), "logged once")

	store.set(nil, false)
	beat(t, p)
	require.Empty(t, p.Status().Error)
	require.Contains(t, logs.String(), "work again")

	store.set(boom, true) // written, the answer lost
	require.Error(t, p.Beat(context.Background()))
	store.set(nil, false)
	beat(t, p, p)
	require.Empty(t, p.Status().Duplicate, "our own write")
	require.Empty(t, p.Status().Error)
}

// TestStoreRejectsConditions: a store that refuses conditional writes
// (501) gets unconditional heartbeats.
func TestStoreRejectsConditions(t *testing.T) {
	var logs bytes.Buffer
	store := &failing{Memory: objstore.NewMemory(), cond: errors.New("put: NotImplemented: A header you provided implies functionality that is not implemented")}
	o := opts("studio-a", newClock(0))
	o.Log = zerolog.New(&logs)
	p := New(store, o)
	beat(t, p, p)
	require.Empty(t, p.Status().Error)
	hb, _ := stored(t, store.Memory, "studio-a")
	require.Equal(t, p.Instance(), hb.Instance)
	require.Equal(t, 1, strings.Count(logs.String(), "rejects conditional writes"))
}

// TestStatusIsACopy: what Status returns is the caller's.
func TestStatusIsACopy(t *testing.T) {
	p := New(objstore.NewMemory(), opts("studio-a", newClock(0)))
	beat(t, p)
	st := p.Status()
	st.Appliances[0].Name, st.Appliances[0].Shares[0] = "x", "y"
	again := p.Status()
	require.Equal(t, "studio-a", again.Appliances[0].Name)
	require.Equal(t, []string{"studio"}, again.Appliances[0].Shares)
}

// TestDuplicateSentenceIsShort: the other side's text is cut, so that a
// heartbeat cannot fill an alert.
func TestDuplicateSentenceIsShort(t *testing.T) {
	p := New(objstore.NewMemory(), opts("studio-a", newClock(0)))
	p.duplicate(time.Now(), Heartbeat{Version: strings.Repeat("v", 1000), Instance: "abc"})
	dup := p.Status().Duplicate
	require.Contains(t, dup, "(version "+strings.Repeat("v", 40)+"…, started unknown, last seen unknown, instance abc)")
}
