package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/config"
	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// rawPut times objstore.S3 Put (aws-sdk-go-v2 and its transfer manager,
// the appliance's own PUT path) of files objects of size bytes from one
// buffer in memory, config.DefaultUploaders at once like the appliance:
// the upload ceiling of this MinIO with no file reading and no hashing
// of file data beyond what Put itself does (with the CRC-32C the daemon
// takes in its hash pass, so Put checks that instead of a SHA-256).
func rawPut(b *testing.B, m *harness.MinIO, prefix string, files, size int) time.Duration {
	ctx := context.Background()
	store, err := objstore.NewS3(ctx, objstore.S3Options{
		Endpoint: m.Endpoint, Region: "us-east-1", Bucket: "raw", Prefix: prefix, PathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
	}, zerolog.Nop())
	require.NoError(b, err)
	require.NoError(b, store.EnsureBucket(ctx))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*31 + i>>9)
	}
	sum := sha256.Sum256(data)
	crc := objstore.NewCRC32C()
	crc.Write(data)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(config.DefaultUploaders)
	start := time.Now()
	for i := 0; i < files; i++ {
		g.Go(func() error {
			_, err := store.Put(gctx, objstore.PutInput{
				Key: fmt.Sprintf("dir%03d/%06d", i%50, i), Body: bytes.NewReader(data), Size: int64(size),
				SHA256: hex.EncodeToString(sum[:]), CRC32C: hex.EncodeToString(crc.Sum(nil)),
			})
			return err
		})
	}
	require.NoError(b, g.Wait())
	return time.Since(start)
}

// diskRead reads every file under dir with O_DIRECT (past the page
// cache) in 1 MiB blocks and returns the bytes read and the time taken:
// the disk's sequential read rate.
func diskRead(b *testing.B, dir string) (int64, time.Duration) {
	const block = 1 << 20
	raw := make([]byte, block+4096)
	off := int(4096 - uintptr(unsafe.Pointer(&raw[0]))%4096)
	buf := raw[off : off+block]
	var total int64
	start := time.Now()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_DIRECT, 0)
		if err != nil {
			return fmt.Errorf("open %s O_DIRECT: %w", p, err)
		}
		defer syscall.Close(fd)
		for {
			n, err := syscall.Read(fd, buf)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			if n == 0 {
				return nil
			}
			total += int64(n)
			if n < block {
				return nil // the tail of an unaligned file
			}
		}
	})
	require.NoError(b, err)
	return total, time.Since(start)
}
