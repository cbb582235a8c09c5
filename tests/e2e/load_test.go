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
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/samba"
	"genesissync/tests/harness"
)

var loadDuration = flag.Duration("load-duration", 60*time.Second, "how long TestSMBLoad's clients run")

const (
	loadReaders   = 20
	loadWriters   = 5
	loadChunk     = 64 << 10 // a player's read size
	loadLibrary   = 24       // files on the share before the load starts
	loadMinSize   = 16 << 10
	loadMaxSize   = 8 << 20
	loadWebMax    = 4 << 20
	loadWebKeep   = 6 // the web app deletes only while it has more files than this
	loadConverge  = 3 * time.Minute
	loadClientCtx = 10 * time.Minute // bounds every SMB operation beyond the load
)

// TestSMBLoad runs 20 SMB readers and 5 SMB writers, each its own session
// on the appliance's smbd, for -load-duration (60 s), while a web app
// writes, replaces and deletes objects straight in the bucket, so that
// the appliance syncs both ways under load. Every file carries the
// SHA-256 of its body in its first 32 bytes, so a reader proves it read
// one whole version (old or new, never a mix) even when a download just
// replaced the file. It requires zero client errors, then convergence:
// share and bucket identical by SHA-256, in sync with nothing pending or
// failed, no temp file visible over SMB. Counts, bytes, read latencies
// and the time to converge are logged, never asserted.
func TestSMBLoad(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		RemoteInterval: time.Second, ScanInterval: 30 * time.Second,
		// The web app deletes one of its own files at a time, in at most
		// one operation of five; 50 % keeps those batches clear of the
		// guard, which has its own test.
		DeleteGuardPercent: 50,
	})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	l := &loadRun{a: a, m: m, files: map[string]*loadFile{}}

	// The library the readers play, synced before the load starts.
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range loadLibrary {
		rel := fmt.Sprintf("library/%02d.mp3", i)
		data := l.version(rel, rng.Uint64(), loadSize(rng, 64<<10, 4<<20))
		writeLocalBytes(t, a, rel, data)
		l.add(rel)
	}
	w := &workload{t: t, a: a, m: m}
	l.converge(t, w, time.Now())

	ctx, cancel := context.WithTimeout(context.Background(), *loadDuration+loadClientCtx)
	defer cancel()
	readers := make([]*samba.Client, loadReaders)
	writers := make([]*samba.Client, loadWriters)
	for i := range readers {
		readers[i] = connectLoad(t, ctx, a)
	}
	for i := range writers {
		writers[i] = connectLoad(t, ctx, a)
	}
	require.NoError(t, writers[0].MkdirAll("web", 0o755)) // where the web app's files arrive

	stop := time.Now().Add(*loadDuration)
	var wg sync.WaitGroup
	for i, c := range readers {
		wg.Go(func() { l.reader(c, rand.New(rand.NewPCG(seed, uint64(100+i))), stop) })
	}
	for i, c := range writers {
		wg.Go(func() { l.writer(c, i, rand.New(rand.NewPCG(seed, uint64(200+i))), stop) })
	}
	wg.Go(func() { l.webApp(t, ctx, rand.New(rand.NewPCG(seed, 300)), stop) })
	wg.Wait()
	stopped := time.Now()

	l.report(t)
	require.Empty(t, l.errs, "client errors during the load (%d)", len(l.errs))

	took := l.converge(t, w, stopped)
	t.Logf("converged %s after the load stopped", took.Round(100*time.Millisecond))
	s := a.Share(t)
	require.Empty(t, s.Conflicts, "no path was changed on both sides, so no conflict copy may appear")
	t.Logf("appliance: %d uploads (%d MiB), %d downloads (%d MiB), %d deletes, %d errors retried, %d files tracked",
		s.Uploads, s.UploadedBytes>>20, s.Downloads, s.DownloadedBytes>>20, s.Deletes, s.Errors, s.FilesTracked)

	// What a client sees afterwards: exactly the share's files, each one
	// whole, and no temp file.
	c := a.SMB(t)
	seen := l.walkSMB(t, c, ".")
	require.Equal(t, w.localFiles(), seen, "files listed over SMB")
	for _, rel := range seen {
		data, err := c.ReadFile(rel)
		require.NoError(t, err)
		require.NoError(t, l.check(rel, data), "over SMB after convergence")
	}
}

// loadRun is the shared state of one load test: the files clients may
// play, every version ever written to each path, the clients' errors and
// counters. Its methods are safe for concurrent use.
type loadRun struct {
	a *harness.Appliance
	m *harness.MinIO

	mu       sync.Mutex
	files    map[string]*loadFile // playable: whole on the share or on its way
	playable []string
	valid    map[string]map[string]bool // path -> SHA-256s of every version written
	lastSeen map[string]string          // path -> SHA-256 a reader last read
	errs     []string
	latency  []time.Duration // of each 64 KiB read

	reads, readBytes, plays, reopens, lists             atomic.Int64
	saves, overwrites, slowSaves, writeBytes            atomic.Int64
	webPuts, webReplaces, webLibrary, webDeletes, webBy atomic.Int64
	webSeen, newVersions                                atomic.Int64
}

// loadFile guards one path: readers hold it shared while playing, an SMB
// overwrite or a bucket-side delete holds it exclusively.
type loadFile struct {
	sync.RWMutex
	web bool // the web app's, not yet seen on the share
}

func (l *loadRun) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

// version makes a file body of size bytes whose first 32 bytes are the
// SHA-256 of the rest, and records it as a valid version of rel.
func (l *loadRun) version(rel string, seed uint64, size int64) []byte {
	body := contentBytes(seed, size-sha256.Size)
	sum := sha256.Sum256(body)
	data := append(sum[:], body...)
	whole := sha256.Sum256(data)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.valid == nil {
		l.valid = map[string]map[string]bool{}
	}
	if l.valid[rel] == nil {
		l.valid[rel] = map[string]bool{}
	}
	l.valid[rel][hex.EncodeToString(whole[:])] = true
	return data
}

// check says whether data is one whole version written to rel.
func (l *loadRun) check(rel string, data []byte) error {
	if len(data) < sha256.Size {
		return fmt.Errorf("%s: %d bytes, shorter than its header", rel, len(data))
	}
	if sum := sha256.Sum256(data[sha256.Size:]); !bytes.Equal(sum[:], data[:sha256.Size]) {
		return fmt.Errorf("%s: %d bytes whose body does not match its header: a mix or a torn file", rel, len(data))
	}
	whole := sha256.Sum256(data)
	l.mu.Lock()
	defer l.mu.Unlock()
	sum := hex.EncodeToString(whole[:])
	if !l.valid[rel][sum] {
		return fmt.Errorf("%s: consistent, but not a version written to this path", rel)
	}
	if l.lastSeen == nil {
		l.lastSeen = map[string]string{}
	}
	if old, ok := l.lastSeen[rel]; ok && old != sum {
		l.newVersions.Add(1)
	}
	l.lastSeen[rel] = sum
	return nil
}

func (l *loadRun) add(rel string) *loadFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := &loadFile{}
	l.files[rel] = f
	l.playable = append(l.playable, rel)
	return f
}

// remove takes rel out of play once no reader holds it.
func (l *loadRun) remove(rel string) {
	l.mu.Lock()
	f := l.files[rel]
	delete(l.files, rel)
	if i := slices.Index(l.playable, rel); i >= 0 {
		l.playable[i] = l.playable[len(l.playable)-1]
		l.playable = l.playable[:len(l.playable)-1]
	}
	l.mu.Unlock()
	if f != nil {
		f.Lock() // wait for its readers
		f.Unlock()
	}
}

// pick returns a playable file, read-locked, or "" if none was free.
func (l *loadRun) pick(rng *rand.Rand) (string, *loadFile) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range 8 {
		if len(l.playable) == 0 {
			return "", nil
		}
		rel := l.playable[rng.IntN(len(l.playable))]
		if f := l.files[rel]; !f.web && f.TryRLock() {
			return rel, f
		}
	}
	return "", nil
}

// reader plays files as a playout PC does: open, read 64 KiB chunks in
// sequence, close, sometimes play the same file again; now and then it
// lists the web app's folder and plays what has arrived.
func (l *loadRun) reader(c *samba.Client, rng *rand.Rand, stop time.Time) {
	buf := make([]byte, loadChunk)
	var lat []time.Duration
	defer func() {
		l.mu.Lock()
		l.latency = append(l.latency, lat...)
		l.mu.Unlock()
	}()
	for time.Now().Before(stop) {
		if rng.IntN(10) == 0 {
			l.listWeb(c)
		}
		rel, f := l.pick(rng)
		if f == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for play := 0; play == 0 || (play < 3 && rng.IntN(3) == 0); play++ {
			if play > 0 {
				l.reopens.Add(1)
			}
			data, err := l.play(c, rel, buf, &lat)
			if err == nil {
				err = l.check(rel, data)
			}
			if err != nil {
				l.fail("reader: %v", err)
				break
			}
			l.plays.Add(1)
		}
		f.RUnlock()
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
	}
}

func (l *loadRun) play(c *samba.Client, rel string, buf []byte, lat *[]time.Duration) ([]byte, error) {
	fh, err := c.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", rel, err)
	}
	var data []byte
	for {
		start := time.Now()
		n, err := io.ReadFull(fh, buf)
		*lat = append(*lat, time.Since(start))
		data = append(data, buf[:n]...)
		l.reads.Add(1)
		l.readBytes.Add(int64(n))
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("read %s at %d: %w", rel, len(data), err)
		}
	}
	if err := fh.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", rel, err)
	}
	return data, nil
}

// listWeb lists the web app's folder over SMB: files the appliance has
// brought down become playable, and no temp name may ever show.
func (l *loadRun) listWeb(c *samba.Client) {
	l.lists.Add(1)
	infos, err := c.ReadDir("web")
	if err != nil {
		l.fail("list web: %v", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, fi := range infos {
		if strings.HasPrefix(fi.Name(), ".genesissync") {
			l.errs = append(l.errs, "temp file visible over SMB: web/"+fi.Name())
		}
		if f := l.files["web/"+fi.Name()]; f != nil && f.web {
			f.web = false
			l.webSeen.Add(1)
		}
	}
}

// writer saves takes over SMB into its own folder: new files and
// overwrites of its earlier ones, 16 KiB to 8 MiB, some slowly in chunks
// with pauses (a studio app recording or exporting).
func (l *loadRun) writer(c *samba.Client, id int, rng *rand.Rand, stop time.Time) {
	dir := fmt.Sprintf("studio/w%d", id)
	if err := c.MkdirAll(dir, 0o755); err != nil {
		l.fail("writer %d: mkdir %s: %v", id, dir, err)
		return
	}
	var mine []string
	for n := 0; time.Now().Before(stop); n++ {
		rel := fmt.Sprintf("%s/take %03d.wav", dir, n)
		var f *loadFile
		if len(mine) > 2 && rng.IntN(5) < 2 {
			rel = mine[rng.IntN(len(mine))]
			l.mu.Lock()
			f = l.files[rel]
			l.mu.Unlock()
			f.Lock() // no reader mid-play while the file is rewritten
			l.overwrites.Add(1)
		} else {
			l.saves.Add(1)
		}
		data := l.version(rel, rng.Uint64(), loadSize(rng, loadMinSize, loadMaxSize))
		slow := rng.IntN(10) < 3
		if slow {
			l.slowSaves.Add(1)
		}
		err := l.save(c, rel, data, slow, rng)
		if f != nil {
			f.Unlock()
		} else if err == nil {
			mine = append(mine, rel)
			l.add(rel)
		}
		if err != nil {
			l.fail("writer %d: %v", id, err)
		}
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
	}
}

func (l *loadRun) save(c *samba.Client, rel string, data []byte, slow bool, rng *rand.Rand) error {
	fh, err := c.Create(rel)
	if err != nil {
		return fmt.Errorf("create %s: %w", rel, err)
	}
	chunk := len(data)
	if slow {
		chunk = 64<<10 + rng.IntN(192<<10)
	}
	for off := 0; off < len(data); off += chunk {
		if slow && off > 0 {
			pause := time.Duration(20+rng.IntN(130)) * time.Millisecond
			if rng.IntN(8) == 0 {
				pause = 1500 * time.Millisecond // longer than the settle window, file still open
			}
			time.Sleep(pause)
		}
		n, err := fh.Write(data[off:min(off+chunk, len(data))])
		l.writeBytes.Add(int64(n))
		if err != nil {
			fh.Close()
			return fmt.Errorf("write %s at %d: %w", rel, off, err)
		}
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("close %s: %w", rel, err)
	}
	return nil
}

// webApp plays AzuraCast on the bucket: new objects through the MinIO
// client (foreign, no appliance metadata), replacements of its own and of
// library files, and deletes of its own files, one operation every
// 0.3 to 0.8 s.
func (l *loadRun) webApp(t *testing.T, ctx context.Context, rng *rand.Rand, stop time.Time) {
	var mine []string
	for n := 0; time.Now().Before(stop); n++ {
		op := rng.IntN(10)
		switch {
		case op < 4 || len(mine) == 0: // a new upload
			rel := fmt.Sprintf("web/upload %03d.mp3", n)
			data := l.version(rel, rng.Uint64(), loadSize(rng, loadMinSize, loadWebMax))
			if out, err := l.m.TryMC(t, data, "pipe", "t/"+l.a.Bucket+"/"+l.a.Prefix+rel); err != nil {
				l.fail("web app: mc pipe %s: %v\n%s", rel, err, out)
				continue
			}
			mine = append(mine, rel)
			f := l.add(rel)
			l.mu.Lock()
			f.web = true
			l.mu.Unlock()
			l.webPuts.Add(1)
			l.webBy.Add(int64(len(data)))
		case op < 6: // a replacement of one of its own
			l.webPut(ctx, mine[rng.IntN(len(mine))], rng)
			l.webReplaces.Add(1)
		case op < 8: // a replacement of a library file the readers play
			l.webPut(ctx, fmt.Sprintf("library/%02d.mp3", rng.IntN(loadLibrary)), rng)
			l.webLibrary.Add(1)
		case len(mine) > loadWebKeep: // a delete of one of its own
			i := rng.IntN(len(mine))
			rel := mine[i]
			mine = slices.Delete(mine, i, i+1)
			l.remove(rel)
			if err := l.a.Store.Delete(ctx, rel); err != nil {
				l.fail("web app: delete %s: %v", rel, err)
			}
			l.webDeletes.Add(1)
		}
		time.Sleep(time.Duration(300+rng.IntN(500)) * time.Millisecond)
	}
}

func (l *loadRun) webPut(ctx context.Context, rel string, rng *rand.Rand) {
	data := l.version(rel, rng.Uint64(), loadSize(rng, loadMinSize, loadWebMax))
	sum := sha256.Sum256(data)
	_, err := l.a.Store.Put(ctx, objstore.PutInput{Key: rel, Body: bytes.NewReader(data), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Mtime: time.Now()})
	if err != nil {
		l.fail("web app: put %s: %v", rel, err)
	}
	l.webBy.Add(int64(len(data)))
}

// converge waits until share and bucket agree (crash_test's differs),
// the bucket was listed after since and no failure is pending; it returns
// how long after since that was first seen.
func (l *loadRun) converge(t *testing.T, w *workload, since time.Time) time.Duration {
	t.Helper()
	deadline := since.Add(loadConverge)
	why := "not checked"
	for time.Now().Before(deadline) {
		s := l.a.Share(t)
		switch {
		case !s.LastRemoteList.After(since):
			why = "bucket not listed since the load stopped"
		case s.State != "in-sync" || s.PendingUploads != 0 || s.InFlight != 0 || s.PendingFailures != 0:
			why = fmt.Sprintf("share %s, %d pending, %d in flight, %d pending failures, last error %+v", s.State, s.PendingUploads, s.InFlight, s.PendingFailures, s.LastError)
		default:
			at := time.Now()
			if why = w.differs(); why == "" {
				return at.Sub(since)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("share and bucket did not converge within %s: %s", loadConverge, why)
	return 0
}

// walkSMB lists dir over SMB recursively and fails on any temp name.
func (l *loadRun) walkSMB(t *testing.T, c *samba.Client, dir string) []string {
	t.Helper()
	infos, err := c.ReadDir(dir)
	require.NoError(t, err)
	var files []string
	for _, fi := range infos {
		// Samba vetoes the appliance's names: temp files, trash, marker.
		require.False(t, strings.HasPrefix(fi.Name(), ".genesissync"), "appliance file visible over SMB: %s/%s", dir, fi.Name())
		rel := path.Join(dir, fi.Name())
		if fi.IsDir() {
			files = append(files, l.walkSMB(t, c, rel)...)
		} else {
			files = append(files, rel)
		}
	}
	slices.Sort(files)
	return files
}

func (l *loadRun) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	lat := slices.Clone(l.latency)
	l.mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(10 * time.Microsecond)
	}
	t.Logf("readers (%d): %d plays (%d re-opens, %d read a different version than the play before it of that file), %d reads of 64 KiB, %d MiB; read latency p50 %s, p99 %s, max %s; %d listings, %d web files seen arrive",
		loadReaders, l.plays.Load(), l.reopens.Load(), l.newVersions.Load(), l.reads.Load(), l.readBytes.Load()>>20, q(0.5), q(0.99), q(1), l.lists.Load(), l.webSeen.Load())
	t.Logf("writers (%d): %d new files, %d overwrites, %d of them slow, %d MiB",
		loadWriters, l.saves.Load(), l.overwrites.Load(), l.slowSaves.Load(), l.writeBytes.Load()>>20)
	t.Logf("web app: %d new objects, %d replaced, %d library files replaced, %d deleted, %d MiB",
		l.webPuts.Load(), l.webReplaces.Load(), l.webLibrary.Load(), l.webDeletes.Load(), l.webBy.Load()>>20)
	for i, e := range l.errs {
		if i == 20 {
			t.Logf("... and %d more", len(l.errs)-20)
			break
		}
		t.Log(e)
	}
}

// loadSize draws a size between lo and hi, uniform in its logarithm, as
// jingles, spots and songs are.
func loadSize(rng *rand.Rand, lo, hi int64) int64 {
	bits := rng.Float64()
	return int64(float64(lo) * math.Pow(float64(hi)/float64(lo), bits))
}

func connectLoad(t *testing.T, ctx context.Context, a *harness.Appliance) *samba.Client {
	t.Helper()
	c, err := samba.Connect(ctx, a.SMBAddr, "studio", a.User, a.Password)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func writeLocalBytes(t *testing.T, a *harness.Appliance, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(a.SharePath, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}
