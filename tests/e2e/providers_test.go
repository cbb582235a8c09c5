package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/status"
	"genesissync/tests/harness"
)

// TestVersityGW runs the appliance against a second, independent S3
// implementation (versitygw's posix backend, which lists keys raw
// whatever encoding-type asks): names with + % ( ) & é ü both ways, a
// multipart upload, a delete into the bucket's trash (a server-side copy
// of a '+' key), a rename done as a server-side copy, verify and restore.
func TestVersityGW(t *testing.T) {
	g := harness.StartVersityGW(t)
	a := harness.StartApplianceOn(t, harness.S3Server{Endpoint: g.Endpoint, AccessKey: g.AccessKey, SecretKey: g.SecretKey},
		harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	ctx := context.Background()

	// Share to bucket.
	up := map[string]int64{
		"Simon + Garfunkel - The Boxer.mp3": 64 << 10,
		"100% Hits/a (live) & b é ü.mp3":    70 << 10,
		"Music/big + 1.wav":                 20 << 20, // multipart
	}
	seed := uint64(300)
	for name, size := range up {
		seed++
		writeSMB(t, c, name, seed, size)
	}
	seed = 300
	for name, size := range up {
		seed++
		waitObject(t, a.Store, name, time.Minute)
		requireObject(t, a.Store, name, seed, size)
	}

	// Bucket to share: keys versitygw lists raw, a "+" and a "%" among them.
	down := map[string][]byte{
		"AzuraCast/p+q.mp3":       contentBytes(401, 30<<10),
		"AzuraCast/100%.mp3":      contentBytes(402, 31<<10),
		"AzuraCast/(x) & y é.mp3": contentBytes(403, 32<<10),
	}
	for key, data := range down {
		putBytes(t, a.Store, key, data)
	}
	for key, data := range down {
		require.Eventually(t, func() bool {
			got, err := os.ReadFile(filepath.Join(a.SharePath, filepath.FromSlash(key)))
			return err == nil && bytes.Equal(data, got)
		}, time.Minute, 100*time.Millisecond, "%q never reached the share", key)
	}
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.FilesTracked == len(up)+len(down) && st.State == "in-sync"
	}, time.Minute, 100*time.Millisecond)
	st := a.Share(t)
	require.Empty(t, st.Refused, "no key refused")
	require.Nil(t, st.ListingError)

	// The capability probe ran at start: versitygw lists keys raw, and the
	// status API says what that degrades.
	var ep status.Endpoint
	require.Eventually(t, func() bool {
		snap, err := a.Status()
		require.NoError(t, err)
		ep = snap.Endpoints[0]
		return ep.Capabilities != nil
	}, time.Minute, 200*time.Millisecond, "no capability probe result")
	require.Equal(t, objstore.TriYes, ep.Capabilities.ConditionalCreate.State, ep.Capabilities.ConditionalCreate.Reason)
	require.Equal(t, objstore.TriYes, ep.Capabilities.ConditionalRace.State, ep.Capabilities.ConditionalRace.Reason)
	require.Equal(t, objstore.TriNo, ep.Capabilities.URLEncoding.State)
	require.Equal(t, objstore.TriYes, ep.Capabilities.CopyPlusKey.State)
	require.Len(t, ep.Degradations, 3, "%q", ep.Degradations) // url encoding; versioning and Object Lock off
	require.Empty(t, ep.Capabilities.Leftovers)

	// A delete on the share: the object goes to the bucket's trash by a
	// server-side copy, which needs the "+" encoded right.
	require.NoError(t, c.Remove("Simon + Garfunkel - The Boxer.mp3"))
	require.Eventually(t, func() bool {
		_, err := a.Store.Head(ctx, "Simon + Garfunkel - The Boxer.mp3")
		return err != nil
	}, time.Minute, 100*time.Millisecond, "the delete never reached the bucket")
	day := time.Now().UTC().Format("2006-01-02")
	_, err := a.Store.Head(ctx, ".genesissync-trash/"+day+"/Simon + Garfunkel - The Boxer.mp3")
	require.NoError(t, err, "recoverable from the trash prefix")

	// A rename of the large file: copied in the bucket, not uploaded again.
	before := a.Share(t).UploadedBytes
	require.NoError(t, c.MkdirAll("Archive", 0o755))
	require.NoError(t, c.Rename("Music/big + 1.wav", "Archive/big + 1.wav"))
	require.Eventually(t, func() bool { return a.Share(t).Renames == 1 }, time.Minute, 100*time.Millisecond, "no server-side rename")
	requireObject(t, a.Store, "Archive/big + 1.wav", 303, up["Music/big + 1.wav"])
	require.Eventually(t, func() bool {
		_, err := a.Store.Head(ctx, "Music/big + 1.wav")
		return err != nil && a.Share(t).State == "in-sync"
	}, time.Minute, 100*time.Millisecond)
	require.Equal(t, before, a.Share(t).UploadedBytes, "the rename sent no bytes")

	out := a.CLI(t, "verify", "studio", "--deep")
	require.Contains(t, out, "sampled): clean", out)

	dir := t.TempDir()
	out = a.CLI(t, "restore", "studio", "--to", dir)
	require.Contains(t, out, "restored 5 files", out)
	for key, data := range down {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		require.NoError(t, err)
		require.Equal(t, data, got)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "100% Hits"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.True(t, strings.HasSuffix(entries[0].Name(), "é ü.mp3"))
}

// putBytes writes data at key into the bucket through the store (with
// our metadata): what is tested is the listing that finds it.
func putBytes(t *testing.T, s *objstore.S3, key string, data []byte) {
	t.Helper()
	sum := sha256.Sum256(data)
	_, err := s.Put(context.Background(), objstore.PutInput{Key: key, Body: bytes.NewReader(data), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	require.NoError(t, err)
}
