package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// schemaVersion is stored in the meta bucket; Open refuses an index written
// by a newer, incompatible layout instead of misreading it.
const schemaVersion = 1

var (
	metaBucket   = []byte("meta")
	sharesBucket = []byte("shares")
	versionKey   = []byte("schema")
)

// Entry is the last synced version of one path.
type Entry struct {
	Size      int64     `json:"size"`
	Mtime     time.Time `json:"mtime"`
	Inode     uint64    `json:"inode,omitempty"`
	SHA256    string    `json:"sha256"`
	ETag      string    `json:"etag,omitempty"`
	VersionID string    `json:"version,omitempty"`
	// HashedAt is when SHA256 was computed from the file. A file whose
	// mtime is within the filesystem's timestamp granularity of HashedAt
	// ("racy", as git calls it) may have changed again without its stat
	// changing, so scans re-hash it once.
	HashedAt time.Time `json:"hashed_at"`
	SyncedAt time.Time `json:"synced_at"`
	// LocalGone marks a path deleted on the share whose object the
	// share's "keep" delete policy left in the bucket: it is not
	// downloaded again unless it changes there.
	LocalGone bool `json:"local_gone,omitempty"`
	// NotFormat marks content that was already not valid in its
	// extension's known format when recorded (tripwire.Sniff): a later
	// rewrite that is not valid either is no sign of encryption.
	NotFormat bool `json:"not_format,omitempty"`
}

// Index is the open index file.
type Index struct {
	db   *bolt.DB
	path string
}

// Open opens (creating if needed) the index at path. It fails with a clear
// error, instead of blocking, when another process holds the file.
func Open(path string) (*Index, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open index %s: locked by another process (is another genesissync running?)", path)
		}
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		if v := meta.Get(versionKey); v != nil {
			var got int
			if err := json.Unmarshal(v, &got); err != nil || got != schemaVersion {
				return fmt.Errorf("schema version %s, this build reads %d", v, schemaVersion)
			}
		} else if err := meta.Put(versionKey, []byte(fmt.Sprint(schemaVersion))); err != nil {
			return err
		}
		_, err = tx.CreateBucketIfNotExists(sharesBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return &Index{db: db, path: path}, nil
}

// Close closes the file. No Share handle may be used afterwards.
func (ix *Index) Close() error { return ix.db.Close() }

// Path is the index file's location.
func (ix *Index) Path() string { return ix.path }

// Share returns the handle for one share's entries.
func (ix *Index) Share(name string) *Share { return &Share{db: ix.db, name: []byte(name)} }

// Share is one share's part of the index. Safe for concurrent use.
type Share struct {
	db   *bolt.DB
	name []byte
}

func (s *Share) bucket(tx *bolt.Tx, create bool) (*bolt.Bucket, error) {
	shares := tx.Bucket(sharesBucket)
	if b := shares.Bucket(s.name); b != nil || !create {
		return b, nil
	}
	return shares.CreateBucket(s.name)
}

// Get returns the entry for path and whether there is one.
func (s *Share) Get(path string) (Entry, bool, error) {
	var e Entry
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		b, _ := s.bucket(tx, false)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(path))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &e)
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("index get %q: %w", path, err)
	}
	return e, ok, nil
}

// Put records e as the synced version of path. It returns once durable.
// Concurrent calls are batched into shared transactions.
func (s *Share) Put(path string, e Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("index put %q: %w", path, err)
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		b, err := s.bucket(tx, true)
		if err != nil {
			return err
		}
		return b.Put([]byte(path), v)
	})
	if err != nil {
		return fmt.Errorf("index put %q: %w", path, err)
	}
	return nil
}

// Delete forgets path. Deleting an absent path is not an error.
func (s *Share) Delete(path string) error {
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b, err := s.bucket(tx, false)
		if err != nil || b == nil {
			return err
		}
		return b.Delete([]byte(path))
	})
	if err != nil {
		return fmt.Errorf("index delete %q: %w", path, err)
	}
	return nil
}

// ForEach calls fn for every entry in path order, inside one read
// transaction: fn must not call back into the index's write methods.
func (s *Share) ForEach(fn func(path string, e Entry) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b, _ := s.bucket(tx, false)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("index entry %q: %w", k, err)
			}
			return fn(string(k), e)
		})
	})
}

// Empty reports whether the share has no entry, without reading them all.
func (s *Share) Empty() (bool, error) {
	empty := true
	err := s.db.View(func(tx *bolt.Tx) error {
		b, _ := s.bucket(tx, false)
		if b != nil {
			k, _ := b.Cursor().First()
			empty = k == nil
		}
		return nil
	})
	return empty, err
}

// Stats are totals over one share's entries.
type Stats struct {
	Files int
	Bytes int64
}

// Stats counts the share's entries and their bytes.
func (s *Share) Stats() (Stats, error) {
	var st Stats
	err := s.ForEach(func(_ string, e Entry) error {
		st.Files++
		st.Bytes += e.Size
		return nil
	})
	return st, err
}

// Remote is the part of an entry that a bucket listing is compared with.
type Remote struct {
	Size      int64     `json:"size"`
	ETag      string    `json:"etag,omitempty"`
	VersionID string    `json:"version,omitempty"`
	SyncedAt  time.Time `json:"synced_at"`
}

// ForEachRemote is ForEach decoding only each entry's Remote part, which
// is what a listing pass needs: it allocates a fraction of what whole
// entries cost. It repeats ForEach's few lines because a generic helper
// allocates once more per entry in both (BenchmarkForEach).
func (s *Share) ForEachRemote(fn func(path string, r Remote) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b, _ := s.bucket(tx, false)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r Remote
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("index entry %q: %w", k, err)
			}
			return fn(string(k), r)
		})
	})
}
