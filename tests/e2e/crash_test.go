package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/audio"
	"genesissync/tests/harness"
)

var (
	crashTrials = flag.Int("crash-trials", 30, "kill -9 trials in TestCrashConvergence")
	crashSeed   = flag.Uint64("crash-seed", 0, "seed of TestCrashConvergence (0: from the clock)")
)

// TestCrashConvergence kills the daemon with SIGKILL at random moments
// while both sides change (uploads, downloads, renames, deletes), restarts
// it and waits for convergence. Every trial checks: share and bucket hold
// the same files with the same SHA-256, no temp file is left on the share,
// no multipart upload is left open, and the daemon tracks exactly those
// files.
func TestCrashConvergence(t *testing.T) {
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -args -crash-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		Settle: 300 * time.Millisecond, RemoteInterval: time.Second, ScanInterval: 10 * time.Second,
		DeleteGuardPercent: 100, // the workload deletes a lot; the guard has its own test
	})
	w := &workload{t: t, a: a, m: m, rng: rng}
	for i := 0; i < 12; i++ { // a base to rename, change and delete
		w.localWrite(fmt.Sprintf("base/%02d.mp3", i))
	}
	w.converge(0)

	for trial := 1; trial <= *crashTrials; trial++ {
		ops := 3 + rng.IntN(6)
		killAt := time.Duration(rng.IntN(1500)) * time.Millisecond
		aimed := trial%2 == 0
		delay := time.Duration(rng.IntN(40)) * time.Millisecond
		done := make(chan struct{})
		go func() {
			defer close(done)
			if !aimed {
				time.Sleep(killAt)
				a.Kill()
				return
			}
			// Aimed: strike while a transfer is in flight.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if st, err := a.Status(); err == nil && len(st.Shares) == 1 && st.Shares[0].InFlight > 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(delay)
			a.Kill()
		}()
		for i := 0; i < ops; i++ {
			w.randomOp(trial, i)
		}
		<-done
		a.Start(t)
		w.converge(trial)
	}
	// What the kills hit, from the daemon's own account of its restarts.
	log, err := os.ReadFile(a.LogPath())
	require.NoError(t, err)
	t.Logf("%d trials: %d restarts found temp files of interrupted downloads, %d found open multipart uploads; %d conflicts kept both versions",
		*crashTrials, bytes.Count(log, []byte("removed temp files left by a crash")),
		bytes.Count(log, []byte("aborted stale multipart uploads")), bytes.Count(log, []byte("conflict: both sides changed")))
}

type workload struct {
	t   *testing.T
	a   *harness.Appliance
	m   *harness.MinIO
	rng *rand.Rand
	n   int
}

func (w *workload) size() int64 {
	switch w.rng.IntN(4) {
	case 0:
		return int64(1 + w.rng.IntN(4<<10))
	case 1:
		return int64(64<<10 + w.rng.IntN(1<<20))
	default: // multipart on the way up (16 MiB parts)
		return int64(17<<20 + w.rng.IntN(4<<20))
	}
}

// content is what the workload saves at rel: real-looking audio of
// rel's format, as a station's files are (the ransomware tripwire, on as
// shipped, judges them).
func (w *workload) content(rel string) []byte {
	return audio.Sized(rel, int(w.size()), w.rng.Uint64())
}

func (w *workload) localWrite(rel string) {
	w.n++
	p := filepath.Join(w.a.SharePath, filepath.FromSlash(rel))
	require.NoError(w.t, os.MkdirAll(filepath.Dir(p), 0o755))
	f, err := os.Create(p)
	require.NoError(w.t, err)
	_, err = f.Write(w.content(rel))
	require.NoError(w.t, err)
	require.NoError(w.t, f.Close())
}

// localFiles lists the share's files (less the appliance's own).
func (w *workload) localFiles() []string {
	var files []string
	_ = filepath.WalkDir(w.a.SharePath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".genesissync") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(w.a.SharePath, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	return files
}

func (w *workload) randomOp(trial, i int) {
	ctx := context.Background()
	local := w.localFiles()
	pick := func() string { return local[w.rng.IntN(len(local))] }
	switch op := w.rng.IntN(10); {
	case op < 3 || len(local) < 4: // a studio saves a new file
		w.localWrite(fmt.Sprintf("t%d/new %d.wav", trial, i))
	case op < 5: // a studio re-saves a file
		w.localWrite(pick())
	case op == 5: // a rename on the share
		to := fmt.Sprintf("moved/t%d-%d %s", trial, i, filepath.Base(pick()))
		from := pick()
		require.NoError(w.t, os.MkdirAll(filepath.Join(w.a.SharePath, "moved"), 0o755))
		_ = os.Rename(filepath.Join(w.a.SharePath, from), filepath.Join(w.a.SharePath, to))
	case op == 6: // a delete on the share (few: the guard would hold more)
		_ = os.Remove(filepath.Join(w.a.SharePath, pick()))
	case op == 7: // a web app writes into the bucket
		key := fmt.Sprintf("web/t%d-%d.mp3", trial, i)
		w.m.MC(w.t, w.content(key), "pipe", "t/"+w.a.Bucket+"/"+w.a.Prefix+key)
	case op == 8: // a web app replaces a file in the bucket
		key := pick()
		data := w.content(key)
		sum := sha256.Sum256(data)
		_, _ = w.a.Store.Put(ctx, objstore.PutInput{Key: key, Body: bytes.NewReader(data), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Mtime: time.Now()})
	default: // a web app deletes from the bucket
		_ = w.a.Store.Delete(ctx, pick())
	}
}

// converge waits until both sides hold the same content and then checks
// every invariant.
func (w *workload) converge(trial int) {
	t := w.t
	deadline := time.Now().Add(2 * time.Minute)
	var why string
	for time.Now().Before(deadline) {
		if why = w.differs(); why == "" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	require.Empty(t, why, "trial %d did not converge", trial)

	leftovers, _ := filepath.Glob(filepath.Join(w.a.SharePath, "*", ".genesissync-tmp-*"))
	top, _ := filepath.Glob(filepath.Join(w.a.SharePath, ".genesissync-tmp-*"))
	require.Empty(t, append(leftovers, top...), "trial %d: temp files left on the share", trial)
	ups, err := w.a.Store.ListMultipartUploads(context.Background())
	require.NoError(t, err)
	require.Empty(t, ups, "trial %d: multipart uploads left open", trial)
}

// differs says how share and bucket differ, or "" once they agree and the
// daemon is idle and tracks exactly those files.
func (w *workload) differs() string {
	st, err := w.a.Status()
	if err != nil || len(st.Shares) != 1 {
		return fmt.Sprintf("status: %v", err)
	}
	s := st.Shares[0]
	if s.State != "in-sync" || s.PendingUploads != 0 || s.HeldDeleteCount != 0 {
		return fmt.Sprintf("share %s, %d pending, %d held deletes, last error %+v", s.State, s.PendingUploads, s.HeldDeleteCount, s.LastError)
	}
	local := map[string]string{}
	for _, rel := range w.localFiles() {
		data, err := os.ReadFile(filepath.Join(w.a.SharePath, filepath.FromSlash(rel)))
		if err != nil {
			return err.Error()
		}
		sum := sha256.Sum256(data)
		local[rel] = hex.EncodeToString(sum[:])
	}
	remote := map[string]string{}
	ctx := context.Background()
	err = w.a.Store.List(ctx, "", func(o objstore.Object) error {
		if strings.HasPrefix(o.Key, ".genesissync") {
			return nil
		}
		r, _, err := w.a.Store.Get(ctx, o.Key)
		if err != nil {
			return err
		}
		defer r.Close()
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			return err
		}
		remote[o.Key] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		return err.Error()
	}
	for k, v := range local {
		if remote[k] != v {
			return fmt.Sprintf("%s: share %s, bucket %q", k, v[:8], remote[k])
		}
	}
	for k := range remote {
		if _, ok := local[k]; !ok {
			return k + ": only in the bucket"
		}
	}
	if s.FilesTracked != len(local) {
		return fmt.Sprintf("daemon tracks %d files, share has %d", s.FilesTracked, len(local))
	}
	return ""
}
