package objstore_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/objstore/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) objstore.Store { return objstore.NewMemory() })
	t.Run("ConditionalDelete", func(t *testing.T) { storetest.RunConditionalDelete(t, objstore.NewMemory()) })
}

func TestMemoryETagIsMD5(t *testing.T) {
	m := objstore.NewMemory()
	b := []byte("hello, studio")
	h := sha256.Sum256(b)
	o, err := m.Put(context.Background(), objstore.PutInput{Key: "k", Body: bytes.NewReader(b), Size: int64(len(b)), SHA256: hex.EncodeToString(h[:])})
	require.NoError(t, err)
	want := md5.Sum(b)
	require.Equal(t, hex.EncodeToString(want[:]), o.ETag)
}

func TestMemoryCancelledPutLeavesNothing(t *testing.T) {
	m := objstore.NewMemory()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := []byte("x")
	h := sha256.Sum256(b)
	_, err := m.Put(ctx, objstore.PutInput{Key: "k", Body: bytes.NewReader(b), Size: 1, SHA256: hex.EncodeToString(h[:])})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, objstore.IsRetryable(err))
	_, err = m.Head(context.Background(), "k")
	require.ErrorIs(t, err, objstore.ErrNotFound)
}

// TestMemoryConcurrent is meant for -race: every method at once.
func TestMemoryConcurrent(t *testing.T) {
	m := objstore.NewMemory()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("k%d", i%10)
				b := []byte(fmt.Sprintf("%d-%d", w, i))
				h := sha256.Sum256(b)
				_, err := m.Put(ctx, objstore.PutInput{Key: key, Body: bytes.NewReader(b), Size: int64(len(b)), SHA256: hex.EncodeToString(h[:])})
				require.NoError(t, err)
				_, _ = m.Head(ctx, key)
				require.NoError(t, m.List(ctx, "", func(objstore.Object) error { return nil }))
				if i%7 == 0 {
					require.NoError(t, m.Delete(ctx, key))
				}
			}
		})
	}
	wg.Wait()
}
