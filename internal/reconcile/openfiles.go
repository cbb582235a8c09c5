package reconcile

import (
	"context"
	"sync"
	"time"
)

// OpenFiles tells which share paths SMB clients hold open. Implementations
// must be safe for concurrent use and cheap (cached).
type OpenFiles interface {
	// Writing reports whether a client holds rel open for writing; the
	// answer may be up to a second old (it only delays a read).
	Writing(ctx context.Context, rel string) bool
	// Open reports whether a client holds rel open at all, as of now
	// (it guards replacing or removing the file).
	Open(ctx context.Context, rel string) bool
}

// OpenFileCache is an OpenFiles over a lister (smbstatus). When the lister
// fails it reports through OnError and errs safe: no file counts as being
// written (settling alone guards reads), every file as open (nothing is
// replaced or removed blind). Safe for concurrent use.
type OpenFileCache struct {
	List    func(ctx context.Context) (map[string]bool, error) // path -> open for writing
	OnError func(error)

	mu    sync.Mutex
	at    time.Time
	files map[string]bool
	ok    bool // the last listing succeeded
}

// writingMaxAge is how old Writing's answer may be: it only delays a read.
const writingMaxAge = time.Second

func (c *OpenFileCache) get(ctx context.Context, maxAge time.Duration) (map[string]bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < maxAge {
		return c.files, c.ok
	}
	files, err := c.List(ctx)
	c.ok = err == nil
	if err != nil && c.OnError != nil {
		c.OnError(err)
	}
	c.files, c.at = files, time.Now()
	return files, c.ok
}

// Writing implements OpenFiles, from a listing at most writingMaxAge old.
func (c *OpenFileCache) Writing(ctx context.Context, rel string) bool {
	files, _ := c.get(ctx, writingMaxAge)
	return files[rel]
}

// Open implements OpenFiles: it always asks smbd afresh.
func (c *OpenFileCache) Open(ctx context.Context, rel string) bool {
	files, ok := c.get(ctx, 0)
	_, open := files[rel]
	return open || !ok
}
