package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// shBlocks returns the mc command lines of each ```sh block of the
// document at path, in order (comments and other commands left out).
func shBlocks(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var blocks [][]string
	var cur []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```sh":
			in, cur = true, nil
		case in && line == "```":
			in = false
			blocks = append(blocks, cur)
		case in && strings.HasPrefix(line, "mc "):
			cur = append(cur, line)
		}
	}
	return blocks
}

// TestRansomwareDocsMinIOCommands runs the MinIO commands of
// docs/ransomware.md, as written, against the pinned MinIO and mc (alias
// "station" is the test's server), and checks that they do what the
// document says: versioning keeps old versions; with Object Lock in
// governance mode a locked version cannot be deleted while the
// appliance's delete, a delete marker, still works; and the appliance's
// capability probe sees both.
func TestRansomwareDocsMinIOCommands(t *testing.T) {
	blocks := shBlocks(t, filepath.Join("..", "..", "docs", "ransomware.md"))
	var mcBlocks [][]string
	for _, b := range blocks {
		if len(b) > 0 {
			mcBlocks = append(mcBlocks, b)
		}
	}
	require.Len(t, mcBlocks, 2, "the versioning block and the Object Lock block")

	run := func(m *harness.MinIO, lines []string) {
		for _, line := range lines {
			args := strings.Fields(strings.ReplaceAll(line, "station/", "t/"))[1:]
			out, err := m.TryMC(t, nil, args...)
			require.NoError(t, err, "%s:\n%s", line, out)
		}
	}
	store := func(m *harness.MinIO) *objstore.S3 {
		s, err := objstore.NewS3(context.Background(), objstore.S3Options{
			Endpoint: m.Endpoint, Region: "us-east-1", Bucket: "studio", PathStyle: true,
			AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
		}, zerolog.Nop())
		require.NoError(t, err)
		return s
	}
	put := func(s *objstore.S3, key, body string) objstore.Object {
		sum := sha256.Sum256([]byte(body))
		o, err := s.Put(context.Background(), objstore.PutInput{Key: key, Body: strings.NewReader(body), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
		require.NoError(t, err)
		return o
	}
	versions := func(s *objstore.S3, key string) []objstore.Version {
		var vs []objstore.Version
		require.NoError(t, s.ListVersions(context.Background(), key, func(v objstore.Version) error {
			vs = append(vs, v)
			return nil
		}))
		return vs
	}

	t.Run("versioning on an existing bucket", func(t *testing.T) {
		m := harness.StartMinIO(t)
		m.MC(t, nil, "mb", "t/studio")
		run(m, mcBlocks[0])
		s := store(m)
		put(s, "Music/show.mp3", "before")
		put(s, "Music/show.mp3", "encrypted")
		require.Len(t, versions(s, "Music/show.mp3"), 2, "the overwritten version is kept")
		out := m.MC(t, nil, "ilm", "rule", "ls", "t/studio")
		require.Contains(t, out, "90", "the lifecycle rule is there: %s", out)
	})

	t.Run("object lock in governance mode", func(t *testing.T) {
		m := harness.StartMinIO(t)
		run(m, mcBlocks[1])
		s := store(m)
		o := put(s, "Music/show.mp3", "locked for 30 days")
		require.NotEmpty(t, o.VersionID)
		out, err := m.TryMC(t, nil, "rm", "--version-id", o.VersionID, "t/studio/Music/show.mp3")
		require.Error(t, err, "a locked version cannot be deleted")
		require.Contains(t, out, "WORM protected", "refused for its lock, not for another reason")
		require.NoError(t, s.Delete(context.Background(), "Music/show.mp3"), "the appliance's delete, a delete marker, still works")
		_, err = s.Head(context.Background(), "Music/show.mp3")
		require.ErrorIs(t, err, objstore.ErrNotFound)
		r, _, err := s.GetVersion(context.Background(), "Music/show.mp3", o.VersionID)
		require.NoError(t, err, "the locked version is still there")
		r.Close()

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		caps, err := s.Probe(ctx)
		require.NoError(t, err)
		require.Equal(t, objstore.TriYes, caps.Versioning.State, "%+v", caps.Versioning)
		require.Equal(t, objstore.TriYes, caps.ObjectLock.State, "%+v", caps.ObjectLock)
	})
}
