package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// endpointsTimeout is the tests' EndpointTimeout: short, so that a
// black-holed endpoint costs a second.
const endpointsTimeout = time.Second

// severalEndpoints is a target of two real MinIO servers, each with its
// own credentials and a fault proxy in front: "near" (first in line) and
// "far". The test writes to each server directly where a replica would
// lag; the appliance never replicates.
type severalEndpoints struct {
	near, far           *harness.MinIO
	nearProxy, farProxy *harness.FaultProxy
	nearURL, farURL     string
	bucket              string
	// direct are one-endpoint stores on each server, not through the
	// proxies, to look at what each holds.
	nearDirect, farDirect *objstore.S3
}

func startSeveralEndpoints(t *testing.T) *severalEndpoints {
	t.Helper()
	e := &severalEndpoints{near: harness.StartMinIO(t), far: harness.StartMinIO(t), bucket: newBucket()}
	e.nearProxy = harness.StartFaultProxy(t, trimScheme(e.near.Endpoint))
	e.farProxy = harness.StartFaultProxy(t, trimScheme(e.far.Endpoint))
	e.nearURL, e.farURL = "http://"+e.nearProxy.Addr, "http://"+e.farProxy.Addr
	e.nearDirect = newS3(t, s3Options(e.near.S3Server, e.bucket))
	e.farDirect = newS3(t, s3Options(e.far.S3Server, e.bucket))
	require.NoError(t, e.nearDirect.EnsureBucket(ctxT(t)))
	require.NoError(t, e.farDirect.EnsureBucket(ctxT(t)))
	return e
}

func trimScheme(u string) string { return u[len("http://"):] }

// store is the target with both endpoints, near first, each with its own
// server's keys (the target's own are the far server's, so the near
// endpoint's override is what makes its requests pass).
func (e *severalEndpoints) store(t *testing.T, edit func(*objstore.S3Options)) *objstore.S3 {
	t.Helper()
	opts := s3Options(e.far.S3Server, e.bucket)
	opts.Endpoint = ""
	opts.Endpoints = []objstore.S3Endpoint{
		{URL: e.nearURL, AccessKeyID: e.near.AccessKey, SecretAccessKey: e.near.SecretKey},
		{URL: e.farURL},
	}
	opts.EndpointTimeout = endpointsTimeout
	opts.MaxAttempts = 3
	if edit != nil {
		edit(&opts)
	}
	s, err := objstore.NewS3(ctxT(t), opts, zerolog.Nop())
	require.NoError(t, err)
	return s
}

func health(t *testing.T, s *objstore.S3, url string) objstore.EndpointHealth {
	t.Helper()
	for _, h := range s.Health() {
		if h.URL == url {
			return h
		}
	}
	t.Fatalf("no endpoint %s in %+v", url, s.Health())
	return objstore.EndpointHealth{}
}

// requireHolds checks that the server behind direct holds key with
// body's bytes.
func requireHolds(t *testing.T, direct *objstore.S3, key string, body []byte) {
	t.Helper()
	r, _, err := direct.Get(ctxT(t), key)
	require.NoError(t, err, "%s holds %s", direct.Endpoint(), key)
	defer r.Close()
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.True(t, bytes.Equal(body, got), "%s: %s has other bytes", direct.Endpoint(), key)
}

func requireLacks(t *testing.T, direct *objstore.S3, key string) {
	t.Helper()
	_, err := direct.Head(ctxT(t), key)
	require.ErrorIs(t, err, objstore.ErrNotFound, "%s must not hold %s", direct.Endpoint(), key)
}

func TestSeveralEndpoints(t *testing.T) {
	e := startSeveralEndpoints(t)

	t.Run("HealthyNearTakesEverything", func(t *testing.T) {
		s := e.store(t, nil)
		require.Equal(t, e.nearURL, s.Endpoint(), "the target is known by its first endpoint")
		_, err := s.Put(ctxT(t), putInput("healthy.mp3", []byte("near")))
		require.NoError(t, err)
		requireHolds(t, e.nearDirect, "healthy.mp3", []byte("near"))
		requireLacks(t, e.farDirect, "healthy.mp3")
		r, _, err := s.Get(ctxT(t), "healthy.mp3")
		require.NoError(t, err)
		got, _ := io.ReadAll(r)
		r.Close()
		require.Equal(t, "near", string(got))
		near, far := health(t, s, e.nearURL), health(t, s, e.farURL)
		require.True(t, near.Writes)
		require.False(t, near.Down)
		require.Equal(t, int64(4), near.BytesWritten)
		require.Equal(t, int64(4), near.BytesRead)
		require.Zero(t, far.Requests, "nothing went to the far endpoint")
	})

	t.Run("LaggingReplicaFallsBack", func(t *testing.T) {
		s := e.store(t, nil)
		// Only the far server has it: the near replica has not received
		// it yet.
		_, err := e.farDirect.Put(ctxT(t), putInput("new from the web.mp3", []byte("far only")))
		require.NoError(t, err)
		o, err := s.Head(ctxT(t), "new from the web.mp3")
		require.NoError(t, err)
		require.Equal(t, int64(8), o.Size)
		r, _, err := s.Get(ctxT(t), "new from the web.mp3")
		require.NoError(t, err)
		got, _ := io.ReadAll(r)
		r.Close()
		require.Equal(t, "far only", string(got))
		near := health(t, s, e.nearURL)
		require.Equal(t, int64(2), near.Misses)
		require.False(t, near.Down, "a 404 is no failure of the endpoint")

		_, err = s.Head(ctxT(t), "on neither.mp3")
		require.ErrorIs(t, err, objstore.ErrNotFound, "absent everywhere is absent")
	})

	t.Run("StaleReplicaNeverWins", func(t *testing.T) {
		s := e.store(t, nil)
		// The near endpoint was down while the appliance wrote v2 to the
		// far one; it came back holding v1.
		old, err := e.nearDirect.Put(ctxT(t), putInput("stale/show.mp3", []byte("version 1")))
		require.NoError(t, err)
		time.Sleep(1100 * time.Millisecond) // LastModified has whole seconds
		cur, err := e.farDirect.Put(ctxT(t), putInput("stale/show.mp3", []byte("version 2")))
		require.NoError(t, err)
		require.NotEqual(t, old.ETag, cur.ETag)

		o, err := s.Head(ctxT(t), "stale/show.mp3")
		require.NoError(t, err)
		require.Equal(t, old.ETag, o.ETag, "a plain Head takes the nearest answer")
		o, err = s.HeadLatest(ctxT(t), "stale/show.mp3", objstore.Known{ETag: cur.ETag})
		require.NoError(t, err)
		require.Equal(t, cur.ETag, o.ETag, "the endpoint holding what the index recorded answers")
		o, err = s.HeadLatest(ctxT(t), "stale/show.mp3", objstore.Known{})
		require.NoError(t, err)
		require.Equal(t, cur.ETag, o.ETag, "with nothing recorded, the newest version wins")
		o, err = s.HeadLatest(ctxT(t), "stale/show.mp3", objstore.Known{ETag: "0123456789abcdef0123456789abcdef"})
		require.NoError(t, err)
		require.Equal(t, cur.ETag, o.ETag, "with another version recorded, the newest still wins")

		r, got, err := s.GetMatching(ctxT(t), "stale/show.mp3", cur.ETag)
		require.NoError(t, err)
		body, _ := io.ReadAll(r)
		r.Close()
		require.Equal(t, "version 2", string(body), "the stale replica's bytes are passed over")
		require.Equal(t, cur.ETag, got.ETag)
		_, _, err = s.GetMatching(ctxT(t), "stale/show.mp3", "0123456789abcdef0123456789abcdef")
		require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "no endpoint holds that version")

		// Deleted on the far endpoint, not yet on the near one: not
		// believed deleted while an endpoint still holds it.
		require.NoError(t, e.farDirect.Delete(ctxT(t), "stale/show.mp3"))
		o, err = s.HeadLatest(ctxT(t), "stale/show.mp3", objstore.Known{ETag: cur.ETag})
		require.NoError(t, err)
		require.Equal(t, old.ETag, o.ETag)
		require.NoError(t, e.nearDirect.Delete(ctxT(t), "stale/show.mp3"))
		_, err = s.HeadLatest(ctxT(t), "stale/show.mp3", objstore.Known{ETag: cur.ETag})
		require.ErrorIs(t, err, objstore.ErrNotFound, "gone everywhere is gone")

		// One endpoint down: the others decide.
		_, err = e.farDirect.Put(ctxT(t), putInput("stale/far.mp3", []byte("far")))
		require.NoError(t, err)
		e.nearProxy.Set(t, harness.Refuse, 0, 0)
		defer e.nearProxy.Set(t, harness.Pass, 0, 0)
		_, err = s.Head(ctxT(t), "stale/far.mp3") // finds the near endpoint down
		require.NoError(t, err)
		o, err = s.HeadLatest(ctxT(t), "stale/far.mp3", objstore.Known{})
		require.NoError(t, err)
		require.Equal(t, int64(3), o.Size)
	})

	t.Run("BehindWhileTheNewestCannotAnswer", func(t *testing.T) {
		s := e.store(t, nil)
		// The appliance wrote v2 to the far endpoint and recorded it; the
		// near one holds v1 and the far one is now down.
		_, err := e.nearDirect.Put(ctxT(t), putInput("behind/show.mp3", []byte("version 1")))
		require.NoError(t, err)
		time.Sleep(2100 * time.Millisecond) // past the clock skew allowance
		cur, err := e.farDirect.Put(ctxT(t), putInput("behind/show.mp3", []byte("version 2")))
		require.NoError(t, err)
		_, err = e.farDirect.Put(ctxT(t), putInput("behind/new.mp3", []byte("only on far")))
		require.NoError(t, err)
		recorded := objstore.Known{ETag: cur.ETag, At: time.Now()}
		e.farProxy.Set(t, harness.Refuse, 0, 0)
		defer e.farProxy.Set(t, harness.Pass, 0, 0)
		_, err = s.Endpoints()[1].Head(ctxT(t), "behind/show.mp3") // finds the far endpoint down
		require.Error(t, err)

		_, err = s.HeadLatest(ctxT(t), "behind/show.mp3", recorded)
		require.ErrorIs(t, err, objstore.ErrReplicasBehind, "v1 is older than the record: not the current state")
		require.True(t, objstore.IsRetryable(err), "it passes once the far endpoint answers")
		_, err = s.HeadLatest(ctxT(t), "behind/new.mp3", objstore.Known{ETag: "0123456789abcdef0123456789abcdef", At: time.Now()})
		require.ErrorIs(t, err, objstore.ErrReplicasBehind, "a recorded key absent where asked, while the far endpoint did not answer: no proof of a delete")
		_, err = s.HeadLatest(ctxT(t), "behind/new.mp3", objstore.Known{})
		require.ErrorIs(t, err, objstore.ErrNotFound, "a key never recorded is simply not there yet")

		e.farProxy.Set(t, harness.Pass, 0, 0)
		require.NoError(t, s.Endpoints()[1].Ping(ctxT(t)))
		o, err := s.HeadLatest(ctxT(t), "behind/show.mp3", recorded)
		require.NoError(t, err)
		require.Equal(t, cur.ETag, o.ETag)
	})

	t.Run("RefusingNearFailsOverAtOnce", func(t *testing.T) {
		s := e.store(t, nil)
		e.nearProxy.Set(t, harness.Refuse, 0, 0)
		defer e.nearProxy.Set(t, harness.Pass, 0, 0)
		start := time.Now()
		_, err := s.Put(ctxT(t), putInput("refused/first.mp3", []byte("first")))
		first := time.Since(start)
		require.NoError(t, err)
		requireHolds(t, e.farDirect, "refused/first.mp3", []byte("first"))
		near := health(t, s, e.nearURL)
		require.True(t, near.Down)
		require.Contains(t, near.LastError, "refused")
		require.Equal(t, int64(1), near.Requests, "one attempt on the refusing endpoint, not the retry budget")
		require.True(t, health(t, s, e.farURL).Writes, "the far endpoint takes the writes now")

		start = time.Now()
		_, err = s.Put(ctxT(t), putInput("refused/second.mp3", []byte("second")))
		second := time.Since(start)
		require.NoError(t, err)
		require.Equal(t, int64(1), health(t, s, e.nearURL).Requests, "a down endpoint is not asked again while another answers")
		t.Logf("refused first endpoint: first put %v, second %v", first.Round(time.Millisecond), second.Round(time.Millisecond))

		// It answers again: the probe (a Ping of the member) puts it back
		// in its place.
		e.nearProxy.Set(t, harness.Pass, 0, 0)
		require.NoError(t, s.Endpoints()[0].Ping(ctxT(t)))
		require.False(t, health(t, s, e.nearURL).Down)
		_, err = s.Put(ctxT(t), putInput("refused/after.mp3", []byte("after")))
		require.NoError(t, err)
		requireHolds(t, e.nearDirect, "refused/after.mp3", []byte("after"))
	})

	t.Run("BlackholedNearCostsOneTimeout", func(t *testing.T) {
		s := e.store(t, nil)
		e.nearProxy.Set(t, harness.Blackhole, 0, 0)
		defer e.nearProxy.Set(t, harness.Pass, 0, 0)
		start := time.Now()
		_, err := s.Put(ctxT(t), putInput("blackhole/first.mp3", []byte("first")))
		first := time.Since(start)
		require.NoError(t, err)
		requireHolds(t, e.farDirect, "blackhole/first.mp3", []byte("first"))
		require.True(t, health(t, s, e.nearURL).Down)

		start = time.Now()
		_, err = s.Head(ctxT(t), "blackhole/first.mp3")
		second := time.Since(start)
		require.NoError(t, err)
		require.Equal(t, int64(1), health(t, s, e.nearURL).Requests, "the second request does not wait for the black hole")
		t.Logf("black-holed first endpoint (endpoint timeout %v): first put %v, next request %v",
			endpointsTimeout, first.Round(time.Millisecond), second.Round(time.Millisecond))
	})

	t.Run("DyingMidMultipartRestartsOnTheNext", func(t *testing.T) {
		s := e.store(t, func(o *objstore.S3Options) { o.PartSize = objstore.MinPartSize })
		defer e.nearProxy.Set(t, harness.Pass, 0, 0)
		data := contentOf(3*int(objstore.MinPartSize) + 12345)
		sum := sha256.Sum256(data)
		// The near endpoint goes black once a part and a half went out.
		body := &rewindable{data: data, at: int(objstore.MinPartSize) * 3 / 2, hook: func() { e.nearProxy.Set(t, harness.Blackhole, 0, 0) }}
		_, err := s.Put(ctxT(t), objstore.PutInput{Key: "multipart/hour.wav", Body: body, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
		require.NoError(t, err)
		require.Equal(t, 1, body.rewinds, "the body went again from its start to the next endpoint")
		requireHolds(t, e.farDirect, "multipart/hour.wav", data)
		require.True(t, health(t, s, e.nearURL).Down)

		// Back: the near endpoint holds the orphaned upload, which the
		// janitor aborts there.
		e.nearProxy.Set(t, harness.Pass, 0, 0)
		require.NoError(t, s.Endpoints()[0].Ping(ctxT(t)))
		requireLacks(t, e.nearDirect, "multipart/hour.wav")
		_, err = s.AbortStale(ctxT(t), 0)
		require.NoError(t, err)
		ups, err := s.ListMultipartUploads(ctxT(t))
		require.NoError(t, err)
		require.Empty(t, ups, "no upload left open on either endpoint")
	})

	t.Run("ReadOnlyReplicaTakesNoWrites", func(t *testing.T) {
		s := e.store(t, func(o *objstore.S3Options) { o.Endpoints[0].ReadOnly = true })
		_, err := s.Put(ctxT(t), putInput("readonly/spot.mp3", []byte("spot")))
		require.NoError(t, err)
		requireHolds(t, e.farDirect, "readonly/spot.mp3", []byte("spot"))
		requireLacks(t, e.nearDirect, "readonly/spot.mp3")
		require.NoError(t, s.Delete(ctxT(t), "readonly/spot.mp3"))
		requireLacks(t, e.farDirect, "readonly/spot.mp3")
		near := health(t, s, e.nearURL)
		require.False(t, near.Writes)
		require.True(t, health(t, s, e.farURL).Writes)
	})

	t.Run("AllDownIsTheLastOnesError", func(t *testing.T) {
		s := e.store(t, func(o *objstore.S3Options) { o.MaxAttempts = 2 })
		e.nearProxy.Set(t, harness.Refuse, 0, 0)
		e.farProxy.Set(t, harness.Refuse, 0, 0)
		defer e.nearProxy.Set(t, harness.Pass, 0, 0)
		defer e.farProxy.Set(t, harness.Pass, 0, 0)
		_, err := s.Put(ctxT(t), putInput("down/none.mp3", []byte("none")))
		require.Error(t, err)
		require.True(t, objstore.IsRetryable(err), "an outage is worth trying again: %v", err)
		_, err = s.Head(ctxT(t), "healthy.mp3")
		require.Error(t, err)
		require.NotErrorIs(t, err, objstore.ErrNotFound, "an endpoint that cannot answer proves nothing absent")
		for _, h := range s.Health() {
			require.True(t, h.Down, h.URL)
		}
	})
}

// contentOf returns n deterministic bytes.
func contentOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

// rewindable is a Put body that calls hook once, after at bytes were
// read the first time, and that can be read again from its start
// (objstore.Rewinder).
type rewindable struct {
	data    []byte
	at      int
	hook    func()
	mu      sync.Mutex
	off     int
	fired   bool
	rewinds int
}

func (r *rewindable) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	if !r.fired && r.off >= r.at {
		r.fired = true
		r.hook()
	}
	return n, nil
}

func (r *rewindable) Rewind() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.off = 0
	r.rewinds++
	return nil
}

var _ objstore.Rewinder = (*rewindable)(nil)

func TestSeveralEndpointsOptions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		opts    objstore.S3Options
		wantErr string
	}{
		{"both forms", objstore.S3Options{Bucket: "b", Endpoint: "http://a:9000", Endpoints: []objstore.S3Endpoint{{URL: "http://b:9000"}}}, "either Endpoint or Endpoints"},
		{"bad url", objstore.S3Options{Bucket: "b", Endpoints: []objstore.S3Endpoint{{URL: "http://a:9000"}, {URL: "b:9000"}}}, `endpoint 2 "b:9000": want an http:// or https:// URL`},
		{"twice", objstore.S3Options{Bucket: "b", Endpoints: []objstore.S3Endpoint{{URL: "http://a:9000"}, {URL: "http://a:9000/"}}}, "endpoint 2 http://a:9000: listed twice"},
		{"half keys", objstore.S3Options{Bucket: "b", Endpoints: []objstore.S3Endpoint{{URL: "http://a:9000", AccessKeyID: "id"}}}, "endpoint 1 http://a:9000: access key ID and secret access key must be set together"},
		{"none writes", objstore.S3Options{Bucket: "b", Endpoints: []objstore.S3Endpoint{{URL: "http://a:9000", ReadOnly: true}}}, "none takes writes"},
		{"negative timeout", objstore.S3Options{Bucket: "b", EndpointTimeout: -time.Second}, "endpoint timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := objstore.NewS3(ctx, tc.opts, zerolog.Nop())
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
	s, err := objstore.NewS3(ctx, objstore.S3Options{Bucket: "b", Endpoints: []objstore.S3Endpoint{{URL: "http://a:9000/"}, {URL: "https://b.example", ReadOnly: true}}}, zerolog.Nop())
	require.NoError(t, err)
	require.Equal(t, "http://a:9000", s.Endpoint())
	hs := s.Health()
	require.Len(t, hs, 2)
	require.Equal(t, objstore.EndpointHealth{URL: "http://a:9000", Order: 1, Writes: true}, hs[0])
	require.Equal(t, objstore.EndpointHealth{URL: "https://b.example", Order: 2, ReadOnly: true}, hs[1])
}
