package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
)

// DefaultConcurrency is the number of files checked or restored at once
// when the options say 0. HEAD and small GETs are latency-bound, so more
// requests in flight than cores pay off (docs/restore.md).
const DefaultConcurrency = 16

// VerifyOptions configure one Verify. Root, Bucket are required.
type VerifyOptions struct {
	// Root is the directory to check: a share or a restore target.
	Root string
	// Bucket is the share's target.
	Bucket Bucket
	// Index is the share's index: with it, a file never synced or changed
	// on one side since is pending, not a mismatch. Nil is strict: Root
	// must equal the bucket exactly (a restored directory).
	Index Index
	// Prefix limits the check to paths with this string prefix ("" is all).
	Prefix string
	// Matcher excludes paths from both sides, as the share's pipeline
	// does; nil excludes nothing.
	Matcher *scan.Matcher
	// Deep reads and hashes the data of both sides instead of trusting
	// the index and the objects' metadata.
	Deep bool
	// SamplePercent checks the content of this random percentage of the
	// files on both sides; 0 or 100 and over is every file.
	SamplePercent float64
	// Concurrency is the number of files checked at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// MaxProblems bounds Report.Problems; 0 means DefaultMaxProblems.
	MaxProblems int
	// Progress, if set, is called from another goroutine every
	// ProgressInterval (0: DefaultProgressInterval) and once at the end;
	// it must not block for long.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// Rand picks the sample; nil means a random seed.
	Rand *rand.Rand
}

// Report is the outcome of a Verify. It is a value, JSON-friendly.
type Report struct {
	Mode          string    `json:"mode"` // "stored" (index and metadata hashes) or "deep" (data read)
	SamplePercent float64   `json:"sample_percent"`
	Prefix        string    `json:"prefix,omitempty"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	// Local, Remote and Indexed count the files on each side.
	Local   int `json:"local"`
	Remote  int `json:"remote"`
	Indexed int `json:"indexed"`
	// Checked counts files whose content was compared.
	Checked int `json:"checked"`
	// Pending counts differences the sync engine has yet to resolve
	// (changed since the last sync, or never synced): not problems.
	Pending int `json:"pending"`
	// Bytes is how much data was read and hashed (deep mode).
	Bytes int64 `json:"bytes"`
	// Mismatches counts problems whose Kind is a mismatch; warnings
	// (no-hash, refused) are in Counts and Problems but not here.
	Mismatches int          `json:"mismatches"`
	Counts     map[Kind]int `json:"counts"`
	// Problems lists the first MaxProblems findings, sorted by path;
	// Truncated says there were more.
	Problems  []Problem `json:"problems"`
	Truncated bool      `json:"truncated"`
}

// Clean reports whether no mismatch was found.
func (r Report) Clean() bool { return r.Mismatches == 0 }

// pair is what the three sides know of one path.
type pair struct {
	rel    string
	local  *scan.File
	entry  *index.Entry
	remote *objstore.Object
	sample bool
}

// Verify compares the share (o.Root), the index and the bucket and returns
// what differs; it only reads. An error means it could not run; per-file
// read failures are CheckFailed problems. Safe concurrently with the
// share's pipeline and other Verify calls.
func Verify(ctx context.Context, o VerifyOptions) (Report, error) {
	rep := Report{Mode: "stored", SamplePercent: o.SamplePercent, Prefix: o.Prefix, StartedAt: time.Now().UTC()}
	if o.Deep {
		rep.Mode = "deep"
	}
	if o.SamplePercent <= 0 || o.SamplePercent > 100 {
		rep.SamplePercent = 100
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	rng := o.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	probs := newProblems(o.MaxProblems)
	tr := newTracker(o.Progress, o.ProgressInterval)
	tr.setPhase("listing", 0, 0)
	tr.run(ctx)
	defer tr.stop()

	pairs := map[string]*pair{}
	get := func(rel string) *pair {
		p := pairs[rel]
		if p == nil {
			p = &pair{rel: rel}
			pairs[rel] = p
		}
		return p
	}
	sub := o.Prefix
	if i := strings.LastIndexByte(sub, '/'); i >= 0 {
		sub = sub[:i]
	} else {
		sub = ""
	}
	err := scan.Walk(ctx, o.Root, sub, o.Matcher, func(f scan.File) error {
		if !strings.HasPrefix(f.Path, o.Prefix) || reservedPath(f.Path) {
			return nil
		}
		rep.Local++
		get(f.Path).local = &f
		return nil
	})
	if err != nil && !(sub != "" && errors.Is(err, fs.ErrNotExist)) {
		return rep, fmt.Errorf("verify: walk %s: %w", o.Root, err)
	}
	err = o.Bucket.List(ctx, o.Prefix, func(obj objstore.Object) error {
		rel, ok, refused := classify(obj.Key, o.Matcher)
		if refused != nil {
			probs.add(obj.Key, Refused, "%v", refused)
		}
		if !ok {
			return nil
		}
		rep.Remote++
		get(rel).remote = &obj
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("verify: list bucket: %w", err)
	}
	if o.Index != nil {
		err = o.Index.ForEach(func(rel string, e index.Entry) error {
			if !strings.HasPrefix(rel, o.Prefix) {
				return nil
			}
			rep.Indexed++
			if p := pairs[rel]; p != nil {
				p.entry = &e
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("verify: read index: %w", err)
		}
	}

	list := make([]*pair, 0, len(pairs))
	var bytesTotal int64
	for _, p := range pairs {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].rel < list[j].rel })
	checks := 0
	for _, p := range list {
		if p.local != nil && p.remote != nil {
			p.sample = rep.SamplePercent >= 100 || rng.Float64()*100 < rep.SamplePercent
			if p.sample {
				checks++
				if o.Deep {
					bytesTotal += p.local.Size + p.remote.Size
				}
			}
		}
	}
	tr.setPhase("checking", len(list), bytesTotal)

	v := &verifier{o: o, probs: probs, tr: tr}
	results := make([]outcome, len(list))
	tr.each(ctx, len(list), o.Concurrency, func(ctx context.Context, i int) { results[i] = v.check(ctx, list[i]) })
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	for _, r := range results {
		if r.checked {
			rep.Checked++
		}
		if r.pending {
			rep.Pending++
		}
	}
	rep.Bytes = tr.bytes.Load()
	rep.Problems, rep.Counts, rep.Mismatches, rep.Truncated = probs.result()
	rep.FinishedAt = time.Now().UTC()
	return rep, nil
}

type verifier struct {
	o     VerifyOptions
	probs *problems
	tr    *tracker
}

type outcome struct{ checked, pending bool }

// check examines one path and records its problems.
func (v *verifier) check(ctx context.Context, p *pair) outcome {
	l, e, r := p.local, p.entry, p.remote
	strict := v.o.Index == nil
	switch {
	case l == nil && r == nil:
		return outcome{} // an index entry only: the pipeline forgets it
	case r == nil:
		if !strict && e == nil {
			return outcome{pending: true} // not uploaded yet
		}
		// The listing may be older than the walk: ask again.
		if obj, err := v.o.Bucket.Head(ctx, p.rel); err == nil {
			r = &obj
			break
		}
		v.probs.add(p.rel, MissingRemote, "on the share (%d bytes) but not in the bucket", l.Size)
		return outcome{}
	case l == nil:
		if !strict && (e == nil || e.LocalGone) {
			return outcome{pending: e == nil}
		}
		if f, err := scan.Stat(v.o.Root, p.rel); err == nil {
			l = &f
			break
		}
		v.probs.add(p.rel, MissingLocal, "in the bucket (%d bytes) but not on the share", r.Size)
		return outcome{}
	}
	if !p.sample {
		return outcome{}
	}

	// Only sides still at the synced version (by stat, ETag) must agree.
	localSynced := e != nil && e.SHA256 != "" && l.Size == e.Size && l.Mtime.Equal(e.Mtime) && (e.Inode == 0 || l.Inode == e.Inode)
	remoteSynced := e != nil && e.ETag != "" && e.ETag == r.ETag

	head, err := v.o.Bucket.Head(ctx, p.rel)
	if err != nil {
		v.probs.add(p.rel, CheckFailed, "head object: %v", err)
		return outcome{}
	}
	remoteSHA := head.SHA256
	if remoteSHA == "" {
		v.probs.add(p.rel, NoHash, "the object has no sha256 metadata")
	}
	corrupt := false
	if v.o.Deep {
		sum, n, err := v.hashObject(ctx, p.rel)
		if err != nil {
			v.probs.add(p.rel, CheckFailed, "read object: %v", err)
			return outcome{}
		}
		if n != head.Size {
			v.probs.add(p.rel, ObjectCorrupt, "object body has %d bytes, its size is %d", n, head.Size)
			corrupt = true
		} else if remoteSHA != "" && sum != remoteSHA {
			v.probs.add(p.rel, ObjectCorrupt, "object data hashes to %s, its sha256 metadata says %s", sum, remoteSHA)
			corrupt = true
		}
		remoteSHA = sum
	}

	// The index's hash for an unchanged file; deep or strict, the real one.
	localSHA := ""
	switch {
	case strict || (v.o.Deep && localSynced):
		sum, f, err := scan.HashFile(ctx, v.o.Root, p.rel)
		if err != nil {
			v.probs.add(p.rel, CheckFailed, "read share file: %v", err)
			return outcome{}
		}
		v.tr.bytes.Add(f.Size)
		if localSynced && sum != e.SHA256 {
			v.probs.add(p.rel, LocalCorrupt, "the share file hashes to %s, but was synced as %s and its size and mtime are unchanged", sum, e.SHA256)
			corrupt = true
		}
		localSHA = sum
	case localSynced:
		localSHA = e.SHA256
	}

	if !strict && !(localSynced && remoteSynced) {
		// A side changed since the last sync: the pipeline's to reconcile.
		return outcome{checked: true, pending: !corrupt}
	}
	switch {
	case l.Size != head.Size:
		v.probs.add(p.rel, SizeMismatch, "share %d bytes, bucket %d bytes", l.Size, head.Size)
	case !corrupt && localSHA != "" && remoteSHA != "" && localSHA != remoteSHA:
		v.probs.add(p.rel, HashMismatch, "share sha256 %s, bucket %s", localSHA, remoteSHA)
	}
	return outcome{checked: true}
}

// hashObject reads the current object and returns its SHA-256 and length.
func (v *verifier) hashObject(ctx context.Context, key string) (string, int64, error) {
	body, _, err := v.o.Bucket.Get(ctx, key)
	if err != nil {
		return "", 0, err
	}
	defer body.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, countingReader{r: body, n: &v.tr.bytes}, make([]byte, 256<<10))
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
