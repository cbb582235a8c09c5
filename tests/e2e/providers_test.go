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

	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestVersityGW runs the appliance against a second, independent S3
// implementation (versitygw's posix backend, which lists keys raw
// whatever encoding-type asks): see runProvider.
func TestVersityGW(t *testing.T) {
	// Degraded: url encoding, versioning and Object Lock.
	runProvider(t, harness.StartVersityGW(t).S3Server, providerWant{URLEncoding: objstore.TriNo, Degradations: 3})
}

// providerWant is what the capability probe reports for a server, where
// servers differ.
type providerWant struct {
	URLEncoding  objstore.Tri
	Degradations int // sentences in the status API's degradations
}

// runProvider runs the appliance against the S3 server srv (an
// unversioned bucket): names with + % ( ) & é ü both ways, a multipart
// upload, the capability probe on the status API, a delete into the
// bucket's trash (a server-side copy of a '+' key), a rename done as a
// server-side copy, verify and restore.
func runProvider(t *testing.T, srv harness.S3Server, want providerWant) {
	a := harness.StartApplianceOn(t, srv, harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	ctx := context.Background()

	// Share to bucket. A slice, not a map: each file's seed is its
	// content, and a map's order differs from one range to the next.
	up := []struct {
		name string
		seed uint64
		size int64
	}{
		{"Simon + Garfunkel - The Boxer.mp3", 301, 64 << 10},
		{"100% Hits/a (live) & b é ü.mp3", 302, 70 << 10},
		{"Music/big + 1.wav", 303, 20 << 20}, // multipart
	}
	big := up[2]
	for _, f := range up {
		writeSMB(t, c, f.name, f.seed, f.size)
	}
	for _, f := range up {
		waitObject(t, a.Store, f.name, time.Minute)
		requireObject(t, a.Store, f.name, f.seed, f.size)
	}

	// Bucket to share: a "+" and a "%" among the keys (versitygw lists
	// them raw).
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

	// The capability probe ran at start, and the status API says what
	// the server's gaps degrade.
	var ep model.Endpoint
	require.Eventually(t, func() bool {
		snap, err := a.Status()
		require.NoError(t, err)
		ep = snap.Endpoints[0]
		return ep.Capabilities != nil
	}, time.Minute, 200*time.Millisecond, "no capability probe result")
	require.Equal(t, objstore.TriYes, ep.Capabilities.ConditionalCreate.State, ep.Capabilities.ConditionalCreate.Reason)
	require.Equal(t, objstore.TriYes, ep.Capabilities.ConditionalRace.State, ep.Capabilities.ConditionalRace.Reason)
	require.Equal(t, want.URLEncoding, ep.Capabilities.URLEncoding.State, ep.Capabilities.URLEncoding.Reason)
	require.Equal(t, objstore.TriYes, ep.Capabilities.CopyPlusKey.State)
	require.Len(t, ep.Degradations, want.Degradations, "%q", ep.Degradations)
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
	requireObject(t, a.Store, "Archive/big + 1.wav", big.seed, big.size)
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
