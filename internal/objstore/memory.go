package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Memory is an in-memory Store for unit tests of pure logic. It keeps one
// version per key (no versioning) and is safe for concurrent use.
//
// It follows the S3 store's contract: Put reads the body to EOF before it
// stores anything, so a body error, a size mismatch or a SHA-256 mismatch
// (checked for every size, as S3 checks single-part uploads on the server and
// multipart uploads locally) leaves nothing behind. ETag is the hex MD5 of
// the body, as S3 reports for single-part uploads. LastModified is the time
// of the Put.
type Memory struct {
	mu      sync.RWMutex
	objects map[string]memObject
	now     func() time.Time
}

type memObject struct {
	data []byte
	obj  Object
}

var _ Store = (*Memory)(nil)

func NewMemory() *Memory {
	return &Memory{objects: map[string]memObject{}, now: time.Now}
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, in PutInput) (Object, error) {
	if err := checkKey("", in.Key); err != nil {
		return Object{}, fmt.Errorf("put %q: %w", in.Key, err)
	}
	if err := checkPut(in); err != nil {
		return Object{}, fmt.Errorf("put %q: %w", in.Key, err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, ctxReader{ctx: ctx, r: newVerifyingReader(in.Body, in.Size, in.SHA256, in.CRC32C)}); err != nil {
		return Object{}, fmt.Errorf("put %q: %w", in.Key, err)
	}
	sum := md5.Sum(buf.Bytes())
	o := Object{
		Key:          in.Key,
		Size:         int64(buf.Len()),
		ETag:         hex.EncodeToString(sum[:]),
		LastModified: m.now().UTC(),
		ContentType:  ContentType(in.Key),
	}
	// Round-trip the metadata so that Memory returns exactly what S3 would.
	applyMetadata(&o, putMetadata(in))

	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Object{}, fmt.Errorf("put %q: %w", in.Key, err)
	}
	cur, exists := m.objects[in.Key]
	switch {
	case in.IfAbsent && exists:
		return Object{}, fmt.Errorf("put %q: %w: an object exists", in.Key, ErrPreconditionFailed)
	case in.IfMatch != "" && (!exists || cur.obj.ETag != in.IfMatch):
		return Object{}, fmt.Errorf("put %q: %w: the object is not %s", in.Key, ErrPreconditionFailed, in.IfMatch)
	}
	m.objects[in.Key] = memObject{data: buf.Bytes(), obj: o}
	return o, nil
}

// Head implements Store.
func (m *Memory) Head(ctx context.Context, key string) (Object, error) {
	_, o, err := m.lookup(ctx, "head", key)
	return o, err
}

// HeadLatest is Head: one store has one version of each key.
func (m *Memory) HeadLatest(ctx context.Context, key string, _ Known) (Object, error) {
	return m.Head(ctx, key)
}

// GetMatching is Get: one store has one version of each key.
func (m *Memory) GetMatching(ctx context.Context, key, _ string) (io.ReadCloser, Object, error) {
	return m.Get(ctx, key)
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	data, o, err := m.lookup(ctx, "get", key)
	if err != nil {
		return nil, Object{}, err
	}
	return io.NopCloser(bytes.NewReader(data)), o, nil
}

func (m *Memory) lookup(ctx context.Context, op, key string) ([]byte, Object, error) {
	if err := checkKey("", key); err != nil {
		return nil, Object{}, fmt.Errorf("%s %q: %w", op, key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, Object{}, fmt.Errorf("%s %q: %w", op, key, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	mo, ok := m.objects[key]
	if !ok {
		return nil, Object{}, fmt.Errorf("%s %q: %w", op, key, ErrNotFound)
	}
	// Stored data is never modified in place, so sharing it is safe.
	return mo.data, mo.obj, nil
}

// List implements Store. It snapshots the matching descriptions first, so fn
// may call other methods of m.
func (m *Memory) List(ctx context.Context, prefix string, fn func(Object) error) error {
	m.mu.RLock()
	var objs []Object
	for k, mo := range m.objects {
		if strings.HasPrefix(k, prefix) {
			objs = append(objs, listed(mo.obj))
		}
	}
	m.mu.RUnlock()
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// listed reduces o to what an S3 listing reports.
func listed(o Object) Object {
	return Object{Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified}
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, key string) error { return m.DeleteIfMatch(ctx, key, "") }

// DeleteIfMatch is Delete of the object only while its ETag is etag
// (any version when etag is ""), else ErrPreconditionFailed; an absent
// key succeeds.
func (m *Memory) DeleteIfMatch(ctx context.Context, key, etag string) error {
	if err := checkKey("", key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.objects[key]; ok && etag != "" && o.obj.ETag != etag {
		return fmt.Errorf("delete %q: %w", key, ErrPreconditionFailed)
	}
	delete(m.objects, key)
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// PutForeign stores data at key as another tool would (mc, rclone,
// AzuraCast): with the given ETag (for a multipart one, as that tool's
// server computed it; empty means the MD5 of data) and none of our
// metadata. For tests of adoption. Safe for concurrent use.
func (m *Memory) PutForeign(key string, data []byte, etag string) Object {
	if etag == "" {
		sum := md5.Sum(data)
		etag = hex.EncodeToString(sum[:])
	}
	o := Object{Key: key, Size: int64(len(data)), ETag: etag, LastModified: m.now().UTC(), ContentType: DefaultContentType}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = memObject{data: bytes.Clone(data), obj: o}
	return o
}

// ReplaceMetadata is S3.ReplaceMetadata: the bytes stay, the metadata and
// Content-Type are replaced, the ETag becomes the bytes' MD5 (a copy is a
// single-part object). Safe for concurrent use.
func (m *Memory) ReplaceMetadata(ctx context.Context, key, ifMatch string, size int64, md Metadata) (Object, error) {
	if err := checkKey("", key); err != nil {
		return Object{}, fmt.Errorf("replace metadata of %q: %w", key, err)
	}
	if !isLowerHexSHA256(md.SHA256) || ifMatch == "" {
		return Object{}, fmt.Errorf("replace metadata of %q: %w", key, ErrInvalidInput)
	}
	if err := ctx.Err(); err != nil {
		return Object{}, fmt.Errorf("replace metadata of %q: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.objects[key]
	switch {
	case !ok:
		return Object{}, fmt.Errorf("replace metadata of %q: %w", key, ErrNotFound)
	case cur.obj.ETag != ifMatch:
		return Object{}, fmt.Errorf("replace metadata of %q: %w: the object is not %s", key, ErrPreconditionFailed, ifMatch)
	}
	sum := md5.Sum(cur.data)
	ct := md.ContentType
	if ct == "" {
		ct = ContentType(key)
	}
	o := Object{Key: key, Size: int64(len(cur.data)), ETag: hex.EncodeToString(sum[:]), LastModified: m.now().UTC(), ContentType: ct}
	applyMetadata(&o, putMetadata(PutInput{SHA256: md.SHA256, CRC32C: md.CRC32C, Mtime: md.Mtime}))
	m.objects[key] = memObject{data: cur.data, obj: o}
	return o, nil
}
