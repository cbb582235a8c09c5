//go:build providers

package objstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// SeaweedFS (weed server -s3: master, volume server, filer and S3
// gateway) is the third S3 implementation the store runs against, behind
// the providers build tag: weed takes about 7 minutes to build, so it is
// `go tool task test-providers`, not the default suite. What it does
// differently from MinIO is pinned here.

// seaweedFacts are where SeaweedFS answers differently from S3 in
// runFacts. x-amz-checksum-type is stored only by
// CompleteMultipartUpload (weed/s3api/filer_multipart.go), and HEAD
// returns it only when stored (s3api_object_handlers.go), so a
// single-part object's HEAD carries x-amz-checksum-sha256 without a type.
// Nothing in the store reads the type.
var seaweedFacts = serverFacts{SinglePartChecksumType: ""}

// TestSeaweedFS runs everything that needs a real SeaweedFS against one
// server.
func TestSeaweedFS(t *testing.T) {
	w := harness.StartSeaweedFS(t)

	runServerSuite(t, w.S3Server, "studio")

	t.Run("Facts", func(t *testing.T) {
		runFacts(t, w.S3Server, seaweedFacts)
	})

	// SeaweedFS keeps an object's modification time in whole seconds
	// (the filer's Attributes.Mtime; weed/s3api/s3api_object_versioning.go
	// lists time.Unix(entry.Attributes.Mtime, 0)), as AWS S3 lists
	// LastModified (".000Z"). A version and the delete marker written
	// after it within the same second therefore list with equal dates,
	// and only the list's order and IsLatest say which came first.
	t.Run("LastModifiedWholeSeconds", func(t *testing.T) {
		s := newBucketS3(t, w.S3Server, "")
		require.NoError(t, s.EnableVersioning(ctxT(t)))
		var vs []objstore.Version
		for range 3 { // three tries to land both writes in one second
			_, err := s.Put(ctxT(t), putInput("k", []byte("one")))
			require.NoError(t, err)
			require.NoError(t, s.Delete(ctxT(t), "k"))
			vs = vs[:0]
			require.NoError(t, s.ListVersions(ctxT(t), "k", func(v objstore.Version) error {
				vs = append(vs, v)
				return nil
			}))
			if vs[0].LastModified.Equal(vs[len(vs)-1].LastModified) {
				break
			}
		}
		for _, v := range vs {
			require.Zero(t, v.LastModified.Nanosecond(), "%+v", v)
		}
		require.Equal(t, vs[0].LastModified, vs[len(vs)-1].LastModified, "a PUT and a DELETE within one second, three times in a row")
	})

	t.Run("Probe", func(t *testing.T) {
		versioned := func(t *testing.T, s *objstore.S3) { require.NoError(t, s.EnableVersioning(ctxT(t))) }
		opts := func() objstore.S3Options { return s3Options(w.S3Server, newBucket()) }
		// Everything asked of a bucket that has it, as on MinIO:
		// conditions are re-checked under a per-object lock at commit
		// (seaweedfs/seaweedfs#8802), checksums are verified and kept
		// (#8914), listings URL-encode when asked.
		for _, tc := range []probeTarget{
			{"seaweedfs", opts(), nil, allStates(map[string]objstore.Tri{"versioning": objstore.TriNo, "object_lock": objstore.TriNo})},
			{"seaweedfs versioned", opts(), versioned, allStates(map[string]objstore.Tri{"object_lock": objstore.TriNo})},
			{"seaweedfs object lock", opts(), nil, allStates(nil)},
		} {
			t.Run(tc.name, func(t *testing.T) { runProbeTarget(t, tc) })
		}
	})
}
