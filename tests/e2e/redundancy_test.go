package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// redundant is a station's redundant bucket: a MinIO on the studio LAN
// ("near") and one in the cloud ("far"), each replicating bucket
// "station" to the other with MinIO's own active-active bucket
// replication through a fault proxy (to lag or cut it), and the
// appliance's target listing both, near first, each through a fault
// proxy of its own. The appliance never replicates.
type redundant struct {
	near, far             *harness.MinIO
	nearProxy, farProxy   *harness.FaultProxy // the appliance's way to each
	nearToFar, farToNear  *harness.FaultProxy // MinIO's replication links
	nearDirect, farDirect *objstore.S3        // to look at each server
	a                     *harness.Appliance
}

func startRedundant(t *testing.T, o harness.ApplianceOptions) *redundant {
	t.Helper()
	r := &redundant{near: harness.StartMinIO(t), far: harness.StartMinIO(t)}
	r.near.MC(t, nil, "mb", "t/station")
	r.far.MC(t, nil, "mb", "t/station")
	r.nearToFar = harness.StartFaultProxy(t, strings.TrimPrefix(r.far.Endpoint, "http://"))
	r.farToNear = harness.StartFaultProxy(t, strings.TrimPrefix(r.near.Endpoint, "http://"))
	harness.ReplicateBucket(t, r.near, r.far, "station", r.nearToFar.Addr)
	harness.ReplicateBucket(t, r.far, r.near, "station", r.farToNear.Addr)
	r.nearProxy = harness.StartFaultProxy(t, strings.TrimPrefix(r.near.Endpoint, "http://"))
	r.farProxy = harness.StartFaultProxy(t, strings.TrimPrefix(r.far.Endpoint, "http://"))
	r.nearDirect = directStore(t, r.near)
	r.farDirect = directStore(t, r.far)
	o.Endpoints = []harness.TargetEndpoint{
		{URL: "http://" + r.nearProxy.Addr, AccessKey: r.near.AccessKey, SecretKey: r.near.SecretKey},
		{URL: "http://" + r.farProxy.Addr}, // the target's own keys: the far server's
	}
	o.TargetConfig = "      endpoint_timeout: 2s\n      probe_interval: 5s"
	if o.RemoteInterval == 0 {
		o.RemoteInterval = time.Second
	}
	r.a = harness.StartApplianceOn(t, r.far.S3Server, o)
	return r
}

// directStore is the appliance's prefix on m, not through any proxy.
func directStore(t *testing.T, m *harness.MinIO) *objstore.S3 {
	t.Helper()
	s, err := objstore.NewS3(context.Background(), objstore.S3Options{
		Endpoint: m.Endpoint, Region: "us-east-1", Bucket: "station", Prefix: "studio/", PathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
	}, zerolog.Nop())
	require.NoError(t, err)
	return s
}

// endpoint is the status of the appliance's endpoint at order (1: near).
func (r *redundant) endpoint(t *testing.T, order int) model.Endpoint {
	t.Helper()
	st, err := r.a.Status()
	require.NoError(t, err)
	for _, e := range st.Endpoints {
		if e.Order == order {
			return e
		}
	}
	t.Fatalf("no endpoint %d in %+v", order, st.Endpoints)
	return model.Endpoint{}
}

func (r *redundant) waitEndpoint(t *testing.T, order int, what string, ok func(model.Endpoint) bool) {
	t.Helper()
	require.Eventually(t, func() bool { return ok(r.endpoint(t, order)) }, 2*time.Minute, 100*time.Millisecond,
		"endpoint %d never %s", order, what)
}

// waitHolds waits until direct holds key with the content of seed and
// size.
func waitHolds(t *testing.T, direct *objstore.S3, key string, seed uint64, size int64, within time.Duration) time.Time {
	t.Helper()
	want := sha256Of(seed, size)
	require.Eventually(t, func() bool {
		o, err := direct.Head(context.Background(), key)
		return err == nil && o.SHA256 == want
	}, within, 50*time.Millisecond, "%s never held %s", direct.Endpoint(), key)
	return time.Now()
}

// requireConverged checks that the share, the near server and the far
// server hold the same files with the same bytes, and no conflict copy.
func (r *redundant) requireConverged(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var why string
	require.Eventually(t, func() bool {
		local := treeSums(t, r.a.SharePath)
		for _, direct := range []*objstore.S3{r.nearDirect, r.farDirect} {
			remote := map[string]string{}
			err := direct.List(ctx, "", func(o objstore.Object) error {
				if strings.HasPrefix(o.Key, ".genesissync") {
					return nil
				}
				h, err := direct.Head(ctx, o.Key)
				remote[o.Key] = h.SHA256
				return err
			})
			if err != nil {
				why = err.Error()
				return false
			}
			for k, v := range local {
				if remote[k] != v {
					why = direct.Endpoint() + ": " + k + " differs or is missing"
					return false
				}
			}
			if len(remote) != len(local) {
				why = direct.Endpoint() + ": holds more than the share"
				return false
			}
		}
		for k := range local {
			if strings.Contains(k, "conflict") {
				why = "a conflict copy: " + k
				return false
			}
		}
		st, err := r.a.Status()
		if err != nil || st.Shares[0].State != "in-sync" || st.Shares[0].PendingUploads != 0 {
			why = "share not in sync"
			return false
		}
		return true
	}, 3*time.Minute, 250*time.Millisecond, "share, near and far never converged: %s", func() string { return why }())
}

// TestRedundantEndpoints is a studio LAN MinIO replicated to a cloud
// MinIO by MinIO's own replication, the appliance's target listing both:
// the near one dies (writes fail over to the far one), comes back
// lagging (it holds an old version and lacks the new files: the share
// keeps the newest and deletes nothing), and converges once MinIO's
// replication catches up, with nothing lost or duplicated.
func TestRedundantEndpoints(t *testing.T) {
	r := startRedundant(t, harness.ApplianceOptions{})
	share := r.a.SharePath

	// Healthy: the near server takes the writes; MinIO copies them.
	writeLocal(t, filepath.Join(share, "Music/a.mp3"), 1, 256<<10)
	writeLocal(t, filepath.Join(share, "Music/show.mp3"), 2, 128<<10)
	waitHolds(t, r.nearDirect, "Music/a.mp3", 1, 256<<10, time.Minute)
	waitHolds(t, r.farDirect, "Music/show.mp3", 2, 128<<10, time.Minute)
	waitHolds(t, r.farDirect, "Music/a.mp3", 1, 256<<10, time.Minute)
	near := r.endpoint(t, 1)
	require.True(t, near.Writes && near.FirstWriter && near.Reachable, "%+v", near)
	require.True(t, near.Several)
	require.Positive(t, near.BytesWritten)

	// The near server's line goes black (connections accepted, nothing
	// answered): the first request waits one endpoint timeout, the next
	// ones not at all.
	r.nearProxy.Set(t, harness.Blackhole, 0, 0)
	black := time.Now()
	writeLocal(t, filepath.Join(share, "Music/blackhole 1.mp3"), 11, 64<<10)
	first := waitHolds(t, r.farDirect, "Music/blackhole 1.mp3", 11, 64<<10, time.Minute)
	r.waitEndpoint(t, 2, "took the writes", func(e model.Endpoint) bool { return e.Writes })
	second := time.Now()
	writeLocal(t, filepath.Join(share, "Music/blackhole 2.mp3"), 12, 64<<10)
	next := waitHolds(t, r.farDirect, "Music/blackhole 2.mp3", 12, 64<<10, time.Minute)
	t.Logf("black-holed first endpoint (endpoint timeout 2 s, settle 1 s): a file saved reached the second endpoint %v after the black hole began; one saved once it was down, %v after",
		first.Sub(black).Round(10*time.Millisecond), next.Sub(second).Round(10*time.Millisecond))
	r.nearProxy.Set(t, harness.Pass, 0, 0)
	r.waitEndpoint(t, 1, "came back", func(e model.Endpoint) bool { return e.Reachable && e.Writes })
	waitHolds(t, r.nearDirect, "Music/blackhole 2.mp3", 12, 64<<10, time.Minute) // MinIO copied it

	// The near server dies; MinIO cannot copy back to it until it returns.
	r.farToNear.Set(t, harness.Refuse, 0, 0)
	r.near.Stop()
	died := time.Now()
	writeLocal(t, filepath.Join(share, "Music/b.mp3"), 3, 256<<10)
	writeLocal(t, filepath.Join(share, "Music/show.mp3"), 4, 160<<10) // the studio edits the show
	flowing := waitHolds(t, r.farDirect, "Music/b.mp3", 3, 256<<10, time.Minute)
	waitHolds(t, r.farDirect, "Music/show.mp3", 4, 160<<10, time.Minute)
	t.Logf("first endpoint died: a file saved then reached the second endpoint %v later (settle 1 s, endpoint timeout 2 s)",
		flowing.Sub(died).Round(10*time.Millisecond))
	r.waitEndpoint(t, 2, "took the writes", func(e model.Endpoint) bool { return e.Writes && !e.FirstWriter })
	near = r.endpoint(t, 1)
	require.False(t, near.Reachable)
	require.NotEmpty(t, near.Error)
	// A web app saves into the cloud bucket meanwhile: the share gets it
	// from the far server.
	r.far.MC(t, contentBytes(5, 96<<10), "pipe", "t/station/studio/web/from the web.mp3")
	requireLocal(t, r.a, "web/from the web.mp3", 5, 96<<10)

	// The near server returns without what happened meanwhile: it holds
	// the old show and lacks b.mp3 and the web app's file.
	r.near.Restart(t)
	r.waitEndpoint(t, 1, "came back", func(e model.Endpoint) bool { return e.Reachable && e.Writes })
	waitHolds(t, r.nearDirect, "Music/show.mp3", 2, 128<<10, 5*time.Second) // still the old version
	_, err := r.nearDirect.Head(context.Background(), "Music/b.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound, "the near server lags")
	time.Sleep(5 * time.Second) // several listings of the lagging near server
	requireLocal(t, r.a, "Music/show.mp3", 4, 160<<10)
	requireLocal(t, r.a, "Music/b.mp3", 3, 256<<10)
	requireLocal(t, r.a, "web/from the web.mp3", 5, 96<<10)
	writeLocal(t, filepath.Join(share, "Music/c.mp3"), 6, 64<<10)
	waitHolds(t, r.nearDirect, "Music/c.mp3", 6, 64<<10, time.Minute) // writes are back on the near server

	// MinIO's replication catches up: everything everywhere, once.
	r.farToNear.Set(t, harness.Pass, 0, 0)
	waitHolds(t, r.nearDirect, "Music/b.mp3", 3, 256<<10, 2*time.Minute)
	r.requireConverged(t)
	requireLocal(t, r.a, "Music/show.mp3", 4, 160<<10)
	_, err = os.Stat(filepath.Join(share, "Music/c.mp3"))
	require.NoError(t, err)
}

// TestRedundantRestore restores a share from the nearest replica (the
// LAN MinIO; the far one refuses, so nothing can come from there) and,
// with it unreachable, from the far one through a slow line, verifying
// both.
func TestRedundantRestore(t *testing.T) {
	r := startRedundant(t, harness.ApplianceOptions{})
	const files, size = 8, 4 << 20
	for i := range files {
		writeLocal(t, filepath.Join(r.a.SharePath, "Music", "track "+itoa(int64(i))+".wav"), uint64(100+i), size)
	}
	for i := range files {
		waitHolds(t, r.farDirect, "Music/track "+itoa(int64(i))+".wav", uint64(100+i), size, 2*time.Minute)
	}
	want := treeSums(t, r.a.SharePath)

	restore := func(name string) float64 {
		dir := filepath.Join(t.TempDir(), name)
		start := time.Now()
		out, code := runCLI(t, r.a, "restore", "studio", "--to", dir)
		took := time.Since(start)
		require.Zero(t, code, out)
		require.Equal(t, want, treeSums(t, dir), "restored byte for byte")
		out, code = runCLI(t, r.a, "verify", "studio", "--dir", dir, "--deep")
		require.Zero(t, code, out)
		return float64(files*size) / (1 << 20) / took.Seconds()
	}
	// With the far endpoint unreachable, a restore that succeeds read the
	// near one only.
	r.farProxy.Set(t, harness.Refuse, 0, 0)
	nearRate := restore("from-near")
	// The near one unreachable, the far one a slow uplink away (40 ms
	// per chunk, 8 MiB/s).
	r.nearProxy.Set(t, harness.Refuse, 0, 0)
	r.farProxy.Set(t, harness.Slow, 40*time.Millisecond, 8<<20)
	farRate := restore("from-far")
	t.Logf("restore of %d × %d MiB, verified: %.1f MiB/s from the LAN replica, %.1f MiB/s from the far endpoint through a slowed line (8 MiB/s, 40 ms a chunk): %.1f×",
		files, size>>20, nearRate, farRate, nearRate/farRate)
}
