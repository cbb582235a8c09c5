package objstore_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// probeAPIErr is what the SDK returns for an S3 error response.
func probeAPIErr(status int, code string) error {
	return &smithy.OperationError{
		ServiceID: "S3", OperationName: "PutObject",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      &smithy.GenericAPIError{Code: code, Message: "test"},
			},
			RequestID: "req",
		},
	}
}

func TestProbeOutcomeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind objstore.OutcomeKind
		want string // in Detail
	}{
		{"nil", nil, objstore.OutcomeOK, ""},
		{"412", probeAPIErr(412, "PreconditionFailed"), objstore.OutcomeRefused, "HTTP 412 PreconditionFailed"},
		{"409 conflict", probeAPIErr(409, "ConditionalRequestConflict"), objstore.OutcomeRefused, "ConditionalRequestConflict"},
		{"412 without a code", &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 412}}, Err: errors.New("http error"),
		}, objstore.OutcomeRefused, "HTTP 412"},
		{"no such key", probeAPIErr(404, "NoSuchKey"), objstore.OutcomeNotFound, "NoSuchKey"},
		{"no lock configuration", probeAPIErr(404, "ObjectLockConfigurationNotFoundError"), objstore.OutcomeNotFound, ""},
		{"no bucket", probeAPIErr(404, "NoSuchBucket"), objstore.OutcomeFailed, "NoSuchBucket"},
		{"bad digest", probeAPIErr(400, "BadDigest"), objstore.OutcomeBadChecksum, "BadDigest"},
		{"minio checksum", probeAPIErr(400, "XAmzContentChecksumMismatch"), objstore.OutcomeBadChecksum, ""},
		{"not implemented", probeAPIErr(501, "NotImplemented"), objstore.OutcomeUnsupported, "HTTP 501"},
		{"501 other code", probeAPIErr(501, "VersioningNotConfigured"), objstore.OutcomeUnsupported, "VersioningNotConfigured"},
		{"method not allowed", probeAPIErr(405, "MethodNotAllowed"), objstore.OutcomeUnsupported, ""},
		{"access denied", probeAPIErr(403, "AccessDenied"), objstore.OutcomeFailed, "HTTP 403 AccessDenied"},
		{"server error", probeAPIErr(503, "SlowDown"), objstore.OutcomeFailed, "SlowDown"},
		{"network", fmt.Errorf("dial: %w", errors.New("connection refused")), objstore.OutcomeFailed, "connection refused"},
		{"cancelled", context.Canceled, objstore.OutcomeFailed, "canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := objstore.OutcomeOf(tc.err)
			require.Equal(t, tc.kind, got.Kind)
			require.Contains(t, got.Detail, tc.want)
		})
	}
}

var (
	outOK          = objstore.Outcome{Kind: objstore.OutcomeOK}
	outRefused     = objstore.Outcome{Kind: objstore.OutcomeRefused, Detail: "HTTP 412 PreconditionFailed"}
	outNotFound    = objstore.Outcome{Kind: objstore.OutcomeNotFound, Detail: "HTTP 404 NoSuchKey"}
	outBadSum      = objstore.Outcome{Kind: objstore.OutcomeBadChecksum, Detail: "HTTP 400 BadDigest"}
	outUnsupported = objstore.Outcome{Kind: objstore.OutcomeUnsupported, Detail: "HTTP 501 NotImplemented"}
	outFailed      = objstore.Outcome{Kind: objstore.OutcomeFailed, Detail: "HTTP 503 SlowDown"}
	outSkipped     = objstore.Outcome{Kind: objstore.OutcomeSkipped}
)

// classified is one classification case: the capability it gave, the
// state and a word of the reason wanted.
type classified struct {
	name   string
	got    objstore.Capability
	state  objstore.Tri
	reason string
}

func requireClassified(t *testing.T, tests []classified) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.state, tc.got.State, "reason: %s", tc.got.Reason)
			require.Contains(t, tc.got.Reason, tc.reason)
		})
	}
}

func TestProbeClassifyCreate(t *testing.T) {
	type ev = objstore.CreateEvidence
	requireClassified(t, []classified{
		{"honored", ev{New: outOK, Setup: outOK, Existing: outRefused}.Classify(), objstore.TriYes, "412"},
		{"ignored", ev{New: outOK, Setup: outOK, Existing: outOK}.Classify(), objstore.TriNo, "ignored"},
		{"refused but changed", ev{New: outOK, Setup: outOK, Existing: outRefused, ExistingChanged: true}.Classify(), objstore.TriNo, "changed anyway"},
		{"not implemented", ev{New: outUnsupported, Setup: outOK, Existing: outUnsupported}.Classify(), objstore.TriNo, "not implemented"},
		{"refused on a new key", ev{New: outRefused, Setup: outOK, Existing: outRefused}.Classify(), objstore.TriNo, "did not exist"},
		{"new failed", ev{New: outFailed, Setup: outOK, Existing: outRefused}.Classify(), objstore.TriUnknown, "SlowDown"},
		{"setup failed", ev{New: outOK, Setup: outFailed, Existing: outSkipped}.Classify(), objstore.TriUnknown, "existing key"},
		{"existing failed", ev{New: outOK, Setup: outOK, Existing: outFailed}.Classify(), objstore.TriUnknown, "SlowDown"},
	})
}

func TestProbeClassifyOverwrite(t *testing.T) {
	type ev = objstore.OverwriteEvidence
	requireClassified(t, []classified{
		{"honored", ev{Setup: outOK, Wrong: outRefused, Current: outOK, Missing: outNotFound}.Classify(), objstore.TriYes, "NoSuchKey"},
		{"honored, 412 on missing", ev{Setup: outOK, Wrong: outRefused, Current: outOK, Missing: outRefused}.Classify(), objstore.TriYes, ""},
		{"wrong ETag wins", ev{Setup: outOK, Wrong: outOK, Current: outOK, Missing: outNotFound}.Classify(), objstore.TriNo, "wrong ETag overwrote"},
		{"missing key created", ev{Setup: outOK, Wrong: outRefused, Current: outOK, Missing: outOK}.Classify(), objstore.TriNo, "created"},
		{"own ETag refused", ev{Setup: outOK, Wrong: outRefused, Current: outRefused, Missing: outNotFound}.Classify(), objstore.TriNo, "own ETag"},
		{"not implemented", ev{Setup: outOK, Wrong: outUnsupported, Current: outUnsupported, Missing: outUnsupported}.Classify(), objstore.TriNo, "not implemented"},
		{"setup failed", ev{Setup: outFailed, Wrong: outSkipped, Current: outSkipped, Missing: outSkipped}.Classify(), objstore.TriUnknown, "writing"},
		{"current failed", ev{Setup: outOK, Wrong: outRefused, Current: outFailed, Missing: outNotFound}.Classify(), objstore.TriUnknown, "current ETag"},
		{"missing failed", ev{Setup: outOK, Wrong: outRefused, Current: outOK, Missing: outFailed}.Classify(), objstore.TriUnknown, "missing key"},
	})
}

func TestProbeClassifyRace(t *testing.T) {
	type ev = objstore.RaceEvidence
	requireClassified(t, []classified{
		{"a won", ev{A: outOK, B: outRefused, Continue100: [2]bool{true, true}, Overlapped: true, Kept: "a", Final: outOK}.Classify(), objstore.TriYes, "exactly one"},
		{"b won", ev{A: outRefused, B: outOK, Continue100: [2]bool{true, true}, Overlapped: true, Kept: "b", Final: outOK}.Classify(), objstore.TriYes, "exactly one"},
		{"both won", ev{A: outOK, B: outOK, Continue100: [2]bool{true, true}, Overlapped: true, Kept: "b", Final: outOK}.Classify(), objstore.TriNo, "both"},
		{"loser's bytes kept", ev{A: outOK, B: outRefused, Continue100: [2]bool{true, true}, Overlapped: true, Kept: "", Final: outOK}.Classify(), objstore.TriNo, "not the winner's"},
		{"held, then refused", ev{A: outOK, B: outRefused, Continue100: [2]bool{true, false}, Overlapped: true, Kept: "a", Final: outOK}.Classify(), objstore.TriYes, "held the other"},
		{"no overlap", ev{A: outOK, B: outRefused, Continue100: [2]bool{true, true}, Kept: "a", Final: outOK}.Classify(), objstore.TriUnknown, "not in flight at the server at once"},
		{"both refused", ev{A: outRefused, B: outRefused, Continue100: [2]bool{true, true}, Overlapped: true, Final: outNotFound}.Classify(), objstore.TriUnknown, ""},
		{"not implemented", ev{A: outUnsupported, B: outUnsupported, Continue100: [2]bool{true, true}, Overlapped: true}.Classify(), objstore.TriNo, "not implemented"},
		{"one failed", ev{A: outOK, B: outFailed, Continue100: [2]bool{true, true}, Overlapped: true, Kept: "a", Final: outOK}.Classify(), objstore.TriUnknown, "SlowDown"},
		{"head failed", ev{A: outOK, B: outRefused, Continue100: [2]bool{true, true}, Overlapped: true, Final: outFailed}.Classify(), objstore.TriUnknown, "afterwards"},
	})
}

func TestProbeClassifyChecksum(t *testing.T) {
	type ev = objstore.ChecksumEvidence
	good := ev{Wrong: outBadSum, Right: outOK, Head: outOK, Get: outOK, Sent: "c3VtCg==", HeadValue: "c3VtCg==", GetValue: "c3VtCg=="}
	notReturned := good
	notReturned.HeadValue, notReturned.GetValue = "", ""
	stored := good
	stored.Wrong, stored.WrongStored = outOK, true
	refusedButStored := good
	refusedButStored.WrongStored = true
	requireClassified(t, []classified{
		{"verified and returned", good.Classify(), objstore.TriYes, "BadDigest"},
		{"not returned", notReturned.Classify(), objstore.TriNo, "return"},
		{"wrong body stored", stored.Classify(), objstore.TriNo, "stored"},
		{"refused but stored", refusedButStored.Classify(), objstore.TriNo, "stored"},
		{"header rejected", ev{Wrong: outUnsupported, Right: outUnsupported, Head: outSkipped, Get: outSkipped}.Classify(), objstore.TriNo, "not accepted"},
		{"right failed", ev{Wrong: outBadSum, Right: outFailed, Head: outSkipped, Get: outSkipped}.Classify(), objstore.TriUnknown, "matching"},
		{"wrong answered oddly", ev{Wrong: outFailed, Right: outOK, Head: outOK, Get: outOK}.Classify(), objstore.TriUnknown, "wrong checksum"},
		{"head failed", ev{Wrong: outBadSum, Right: outOK, Head: outFailed, Get: outOK}.Classify(), objstore.TriUnknown, "HEAD"},
	})
}

func TestProbeClassifyBucket(t *testing.T) {
	type ver = objstore.VersioningEvidence
	type lock = objstore.ObjectLockEvidence
	requireClassified(t, []classified{
		{"versioning enabled", ver{Get: outOK, Status: "Enabled"}.Classify(), objstore.TriYes, "enabled"},
		{"versioning suspended", ver{Get: outOK, Status: "Suspended"}.Classify(), objstore.TriNo, "suspended"},
		{"versioning never", ver{Get: outOK}.Classify(), objstore.TriNo, "never"},
		{"versioning not implemented", ver{Get: outUnsupported}.Classify(), objstore.TriNo, "not implemented"},
		{"versioning failed", ver{Get: outFailed}.Classify(), objstore.TriUnknown, "SlowDown"},
		{"lock enabled", lock{Get: outOK, Enabled: true, Retention: "GOVERNANCE 1d"}.Classify(), objstore.TriYes, "GOVERNANCE 1d"},
		{"lock enabled, no retention", lock{Get: outOK, Enabled: true}.Classify(), objstore.TriYes, "no default retention"},
		{"lock not found", lock{Get: objstore.Outcome{Kind: objstore.OutcomeNotFound}}.Classify(), objstore.TriNo, "no Object Lock configuration"},
		{"lock not enabled", lock{Get: outOK}.Classify(), objstore.TriNo, "not enabled"},
		{"lock not implemented", lock{Get: outUnsupported}.Classify(), objstore.TriNo, "not implemented"},
		{"lock failed", lock{Get: outFailed}.Classify(), objstore.TriUnknown, "SlowDown"},
	})
}

func TestProbeClassifyEncoding(t *testing.T) {
	type ev = objstore.EncodingEvidence
	const key = "p/a+b 100%.txt é"
	requireClassified(t, []classified{
		{"encoded", ev{Key: key, Put: outOK, List: outOK, EncodingType: "url", Listed: []string{"p/a%2Bb+100%25.txt+%C3%A9"}}.Classify(), objstore.TriYes, "decodes"},
		{"raw", ev{Key: key, Put: outOK, List: outOK, Listed: []string{key}}.Classify(), objstore.TriNo, "raw"},
		{"says url, sends raw", ev{Key: key, Put: outOK, List: outOK, EncodingType: "url", Listed: []string{key}}.Classify(), objstore.TriNo, "not URL-encoded"},
		{"says url, decodes wrong", ev{Key: "p/a+b", Put: outOK, List: outOK, EncodingType: "url", Listed: []string{"p/a+b"}}.Classify(), objstore.TriNo, "decodes to"},
		{"neither", ev{Key: key, Put: outOK, List: outOK, Listed: []string{"p/a b 100%.txt é"}}.Classify(), objstore.TriNo, "neither"},
		{"missing from the listing", ev{Key: key, Put: outOK, List: outOK}.Classify(), objstore.TriUnknown, "0 keys"},
		{"list failed", ev{Key: key, Put: outOK, List: outFailed}.Classify(), objstore.TriUnknown, "SlowDown"},
		{"put failed", ev{Key: key, Put: outFailed, List: outSkipped}.Classify(), objstore.TriUnknown, "writing"},
	})
}

func TestProbeClassifyCopy(t *testing.T) {
	type ev = objstore.CopyEvidence
	const src, dst = "c/a+b.src", "c/a+b.dst"
	requireClassified(t, []classified{
		{"copied", ev{Src: src, Dst: dst, Put: outOK, Copy: outOK, List: outOK, Listed: []string{dst, src}}.Classify(), objstore.TriYes, "byte for byte"},
		{"source not found", ev{Src: src, Dst: dst, Put: outOK, Copy: outNotFound, List: outSkipped}.Classify(), objstore.TriNo, "x-amz-copy-source"},
		{"copy under another key", ev{Src: src, Dst: dst, Put: outOK, Copy: outOK, List: outOK, Listed: []string{"c/a b.dst", src}}.Classify(), objstore.TriNo, "listing holds"},
		{"not implemented", ev{Src: src, Dst: dst, Put: outOK, Copy: outUnsupported, List: outSkipped}.Classify(), objstore.TriNo, "not implemented"},
		{"copy failed", ev{Src: src, Dst: dst, Put: outOK, Copy: outFailed, List: outSkipped}.Classify(), objstore.TriUnknown, "SlowDown"},
		{"put failed", ev{Src: src, Dst: dst, Put: outFailed, Copy: outSkipped, List: outSkipped}.Classify(), objstore.TriUnknown, "writing"},
	})
}

func TestProbeDegradations(t *testing.T) {
	all := objstore.Capability{State: objstore.TriYes, Reason: "fine"}
	full := objstore.Capabilities{
		ConditionalCreate: all, ConditionalOverwrite: all, ConditionalRace: all,
		ChecksumSHA256: all, ChecksumCRC32C: all, Versioning: all, ObjectLock: all,
		URLEncoding: all, CopyPlusKey: all, CopyPercentKey: all,
	}
	no := objstore.Capability{State: objstore.TriNo, Reason: "the reason"}
	unknown := objstore.Capability{State: objstore.TriUnknown, Reason: "a timeout"}
	tests := []struct {
		name string
		edit func(*objstore.Capabilities)
		want []string // one substring per sentence, in order
	}{
		{"everything", func(*objstore.Capabilities) {}, nil},
		{"no conditional creates", func(c *objstore.Capabilities) { c.ConditionalCreate, c.ConditionalRace = no, no },
			[]string{"No conditional creates (the reason): uploads are unconditional, each after a HEAD, and several appliances on this prefix are not safe."}},
		{"creates that race", func(c *objstore.Capabilities) { c.ConditionalRace = no },
			[]string{"No atomic conditional creates (the reason): a condition that two writers can both pass protects nothing"}},
		{"unknown overwrite", func(c *objstore.Capabilities) { c.ConditionalOverwrite = unknown },
			[]string{"Unknown whether conditional overwrites work (a timeout), so treated as absent: a changed file replaces its object"}},
		{"no checksums", func(c *objstore.Capabilities) { c.ChecksumSHA256, c.ChecksumCRC32C = no, no },
			[]string{"integrity relies on our sha256/crc32c metadata", "multipart parts"}},
		{"unversioned, unlocked", func(c *objstore.Capabilities) { c.Versioning, c.ObjectLock = no, no },
			[]string{"point-in-time restore is refused", "No Object Lock"}},
		{"raw listings and copies", func(c *objstore.Capabilities) { c.URLEncoding, c.CopyPlusKey, c.CopyPercentKey = no, no, no },
			[]string{"keys are listed raw", `keys with "+"`, `keys with "%"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := full
			tc.edit(&c)
			got := c.Degradations()
			require.Len(t, got, len(tc.want), "%q", got)
			for i, w := range tc.want {
				require.Contains(t, got[i], w)
				require.True(t, strings.HasSuffix(got[i], "."), "a sentence: %q", got[i])
			}
		})
	}
}

// probeStates returns each capability's state by its JSON name, which also
// checks that Capabilities marshals to snake_case with every capability
// as {state, reason}.
func probeStates(t *testing.T, c objstore.Capabilities) map[string]objstore.Tri {
	t.Helper()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &raw))
	states := map[string]objstore.Tri{}
	for name, v := range raw {
		var c struct {
			State  objstore.Tri `json:"state"`
			Reason string       `json:"reason"`
		}
		if json.Unmarshal(v, &c) == nil && c.State != "" {
			require.NotEmpty(t, c.Reason, "%s has no reason", name)
			states[name] = c.State
		}
	}
	return states
}

// allStates is what a target that does everything reports.
func allStates(edits map[string]objstore.Tri) map[string]objstore.Tri {
	m := map[string]objstore.Tri{}
	for _, name := range []string{
		"conditional_create", "conditional_overwrite", "conditional_race",
		"checksum_sha256", "checksum_crc32c", "versioning", "object_lock",
		"url_encoding", "copy_plus_key", "copy_percent_key",
	} {
		m[name] = objstore.TriYes
	}
	for k, v := range edits {
		m[k] = v
	}
	return m
}

// storedVersion is one object version or delete marker in a bucket.
type storedVersion struct {
	Key, VersionID, ETag string
	DeleteMarker         bool
}

// bucketState is every object version and delete marker in the bucket of
// s, sorted.
func bucketState(t *testing.T, s *objstore.S3) []storedVersion {
	t.Helper()
	var got []storedVersion
	p := s3.NewListObjectVersionsPaginator(s.RawClient(), &s3.ListObjectVersionsInput{Bucket: aws.String(s.Bucket())})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(t))
		require.NoError(t, err)
		for _, v := range page.Versions {
			got = append(got, storedVersion{Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), ETag: aws.ToString(v.ETag)})
		}
		for _, m := range page.DeleteMarkers {
			got = append(got, storedVersion{Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId), DeleteMarker: true})
		}
	}
	sort.Slice(got, func(i, j int) bool {
		if got[i].Key != got[j].Key {
			return got[i].Key < got[j].Key
		}
		return got[i].VersionID < got[j].VersionID
	})
	return got
}

// neighbours are keys a probe must not touch: outside the store prefix,
// beside the probe folder, and in another run's probe folder. (Not a
// file at the probe folder's own path: a posix backend cannot then hold
// the folder.)
var neighbours = []string{
	"outside.mp3",
	"studio/keep.mp3",
	"studio/.genesissync/probe0",
	"studio/.genesissync/probe/0123456789abcdef/other-run",
	"studio/.genesissync/probe-not/x",
}

// TestProbe runs Probe against real MinIO and versitygw buckets, plain,
// versioned and with Object Lock, and checks what each reports and that
// the bucket afterwards holds exactly what it held before.
func TestProbe(t *testing.T) {
	m := harness.StartMinIO(t)
	g := harness.StartVersityGW(t, harness.WithVersioning())

	versioned := func(t *testing.T, s *objstore.S3) { require.NoError(t, s.EnableVersioning(ctxT(t))) }
	minio := func() objstore.S3Options { return s3Options(m.S3Server, newBucket()) }
	versity := func() objstore.S3Options { return s3Options(g.S3Server, newBucket()) }
	noBucketFeatures := map[string]objstore.Tri{"versioning": objstore.TriNo, "object_lock": objstore.TriNo}
	tests := []probeTarget{
		// MinIO does everything asked of a bucket that has it.
		{"minio", minio(), nil, allStates(noBucketFeatures)},
		{"minio versioned", minio(), versioned, allStates(map[string]objstore.Tri{"object_lock": objstore.TriNo})},
		{"minio object lock", minio(), nil, allStates(nil)},
		// versitygw v1.8.0 (posix) does the same, except that it ignores
		// encoding-type=url: its listings carry raw keys and an empty
		// EncodingType (pinned in TestVersityGW too). Its conditional
		// writes are decided under a per-object lock when the object is
		// published, so the race has one winner.
		{"versitygw", versity(), nil, allStates(map[string]objstore.Tri{
			"versioning": objstore.TriNo, "object_lock": objstore.TriNo, "url_encoding": objstore.TriNo,
		})},
		{"versitygw versioned", versity(), versioned, allStates(map[string]objstore.Tri{
			"object_lock": objstore.TriNo, "url_encoding": objstore.TriNo,
		})},
		{"versitygw object lock", versity(), nil, allStates(map[string]objstore.Tri{"url_encoding": objstore.TriNo})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runProbeTarget(t, tc) })
	}

	// A target that cannot be probed at all is an error, not a report.
	t.Run("Unreachable", func(t *testing.T) {
		tests := []struct {
			name string
			opts objstore.S3Options
			want string
		}{
			{"no bucket", s3Options(m.S3Server, newBucket()), "bucket does not exist"},
			{"no server", func() objstore.S3Options {
				o := s3Options(m.S3Server, newBucket())
				o.Endpoint, o.MaxAttempts = closedEndpoint(t), 1
				return o
			}(), "connect"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := newS3(t, tc.opts).Probe(ctxT(t))
				require.ErrorContains(t, err, tc.want)
			})
		}
	})

	// Default retention keeps every probe version: the probe cannot
	// remove them and says so, naming only its own keys.
	t.Run("RetainedLeftovers", func(t *testing.T) {
		opts := s3Options(m.S3Server, newBucket())
		s := newS3(t, opts)
		c, bucket := s.RawClient(), aws.String(s.Bucket())
		_, err := c.CreateBucket(ctxT(t), &s3.CreateBucketInput{Bucket: bucket, ObjectLockEnabledForBucket: aws.Bool(true)})
		require.NoError(t, err)
		_, err = c.PutObjectLockConfiguration(ctxT(t), &s3.PutObjectLockConfigurationInput{
			Bucket: bucket,
			ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
				ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
				Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{
					Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1),
				}},
			},
		})
		require.NoError(t, err)

		caps, err := s.Probe(ctxT(t))
		require.NoError(t, err)
		require.Equal(t, objstore.TriYes, caps.ObjectLock.State)
		require.Contains(t, caps.ObjectLock.Reason, "GOVERNANCE 1d")
		require.NotEmpty(t, caps.Leftovers)
		for _, k := range caps.Leftovers {
			require.True(t, strings.HasPrefix(k, caps.ProbePrefix), "leftover %q outside the probe folder", k)
		}
		// Governance retention can be bypassed; leave the bucket clean.
		for _, v := range bucketState(t, s) {
			_, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{
				Bucket: bucket, Key: aws.String(v.Key), VersionId: aws.String(v.VersionID), BypassGovernanceRetention: aws.Bool(true),
			})
			require.NoError(t, err)
		}
		require.Empty(t, bucketState(t, s))
	})
}

// probeTarget is one bucket TestProbe (or a provider's test) probes: a
// name ending in "object lock" creates the bucket with Object Lock.
type probeTarget struct {
	name string
	opts objstore.S3Options
	// setup prepares the bucket (it exists, with the neighbours); nil
	// leaves it plain.
	setup func(t *testing.T, s *objstore.S3)
	want  map[string]objstore.Tri
}

// runProbeTarget probes tc's bucket under the prefix "studio", logs the
// capabilities and degradations, and checks the states against tc.want
// and that the bucket afterwards holds exactly what it held before.
func runProbeTarget(t *testing.T, tc probeTarget) {
	tc.opts.Prefix = "studio"
	s := newS3(t, tc.opts)
	if strings.HasSuffix(tc.name, "object lock") {
		_, err := s.RawClient().CreateBucket(ctxT(t), &s3.CreateBucketInput{
			Bucket: aws.String(s.Bucket()), ObjectLockEnabledForBucket: aws.Bool(true),
		})
		require.NoError(t, err)
	} else {
		require.NoError(t, s.EnsureBucket(ctxT(t)))
	}
	if tc.setup != nil {
		tc.setup(t, s)
	}
	for _, k := range neighbours {
		_, err := s.RawClient().PutObject(ctxT(t), &s3.PutObjectInput{
			Bucket: aws.String(s.Bucket()), Key: aws.String(k), Body: strings.NewReader("neighbour " + k),
		})
		require.NoError(t, err)
	}
	before := bucketState(t, s)

	caps, err := s.Probe(ctxT(t))
	require.NoError(t, err)
	b, err := json.MarshalIndent(caps, "", "  ")
	require.NoError(t, err)
	t.Logf("%s capabilities:\n%s\ndegradations: %q", tc.name, b, caps.Degradations())
	var table strings.Builder
	table.WriteString("| capability | state | reason |\n| --- | --- | --- |\n")
	for _, c := range caps.Named() {
		fmt.Fprintf(&table, "| %s | %s | %s |\n", c.Name, c.State, c.Reason)
	}
	t.Logf("%s capability table:\n%s", tc.name, table.String())

	require.Equal(t, tc.want, probeStates(t, caps))
	require.Equal(t, s.Endpoint(), caps.Endpoint)
	require.Equal(t, s.Bucket(), caps.Bucket)
	require.Regexp(t, `^studio/\.genesissync/probe/[0-9a-f]{16}/$`, caps.ProbePrefix)
	require.True(t, caps.Evidence.Race.Overlapped, "the race requests were in flight at once")
	require.Empty(t, caps.Leftovers)
	require.Equal(t, before, bucketState(t, s), "the probe leaves the bucket as it found it")
}

// closedEndpoint returns the URL of a port nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}

// TestProbeSeesThroughPretence runs Probe against a fake S3 that pretends:
// it checks If-None-Match when a request arrives but publishes without
// checking again, ignores If-Match and checksum headers, and implements
// nothing else. No real server in our tests lies like this, and the probe
// exists to catch the ones that do; the fake is the only way to show that
// it can.
func TestProbeSeesThroughPretence(t *testing.T) {
	f := &pretender{objects: map[string][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s := newS3(t, objstore.S3Options{
		Endpoint: srv.URL, Region: "us-east-1", Bucket: "fake", PathStyle: true,
		AccessKeyID: "id", SecretAccessKey: "secret", MaxAttempts: 1,
	})
	caps, err := s.Probe(ctxT(t))
	require.NoError(t, err)
	require.Equal(t, allStates(map[string]objstore.Tri{
		"conditional_overwrite": objstore.TriNo,
		"conditional_race":      objstore.TriNo,
		"checksum_sha256":       objstore.TriNo,
		"checksum_crc32c":       objstore.TriNo,
		"versioning":            objstore.TriNo,
		"object_lock":           objstore.TriNo,
		"url_encoding":          objstore.TriNo,
		"copy_plus_key":         objstore.TriNo,
		"copy_percent_key":      objstore.TriNo,
	}), probeStates(t, caps), "%+v", caps)
	require.Contains(t, caps.ConditionalRace.Reason, "both")
	require.Contains(t, caps.ConditionalOverwrite.Reason, "wrong ETag overwrote")
	require.Contains(t, caps.ChecksumSHA256.Reason, "stored")
	require.Empty(t, caps.Leftovers)
	require.Empty(t, f.keys(), "the cleanup removed everything")
	require.Len(t, caps.Degradations(), 9)
}

// pretender is the fake of TestProbeSeesThroughPretence. Keys are paths
// after "/fake/"; it is safe for concurrent requests.
type pretender struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (f *pretender) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for k := range f.objects {
		ks = append(ks, k)
	}
	return ks
}

func (f *pretender) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, _ := strings.CutPrefix(r.URL.Path, "/fake")
	key = strings.TrimPrefix(key, "/")
	q := r.URL.Query()
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>fake</Message></Error>", code)
	}
	etag := func(b []byte) string {
		sum := md5.Sum(b)
		return `"` + hex.EncodeToString(sum[:]) + `"`
	}
	f.mu.Lock()
	cur, exists := f.objects[key]
	f.mu.Unlock()
	switch {
	case key == "" && r.Method == http.MethodHead:
		w.WriteHeader(http.StatusOK)
	case key == "" && r.Method == http.MethodGet && q.Get("list-type") == "2":
		type content struct{ Key, ETag string }
		var res struct {
			XMLName  xml.Name  `xml:"ListBucketResult"`
			Contents []content `xml:"Contents"`
		}
		ks := f.keys()
		sort.Strings(ks)
		for _, k := range ks {
			if strings.HasPrefix(k, q.Get("prefix")) {
				res.Contents = append(res.Contents, content{Key: k, ETag: `"x"`})
			}
		}
		w.Header().Set("Content-Type", "application/xml")
		_ = xml.NewEncoder(w).Encode(res)
	case key == "":
		fail(http.StatusNotImplemented, "NotImplemented") // versioning, object lock, versions
	case r.Method == http.MethodPut && r.Header.Get("x-amz-copy-source") != "":
		fail(http.StatusNotImplemented, "NotImplemented")
	case r.Method == http.MethodPut:
		if r.Header.Get("If-None-Match") == "*" && exists {
			fail(http.StatusPreconditionFailed, "PreconditionFailed")
			return
		}
		b, err := io.ReadAll(r.Body) // the pretence: no second check after this
		if err != nil {
			fail(http.StatusBadRequest, "IncompleteBody")
			return
		}
		f.mu.Lock()
		f.objects[key] = b
		f.mu.Unlock()
		w.Header().Set("ETag", etag(b))
		w.WriteHeader(http.StatusOK)
	case !exists && (r.Method == http.MethodHead || r.Method == http.MethodGet):
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		fail(http.StatusNotFound, "NoSuchKey")
	case r.Method == http.MethodHead || r.Method == http.MethodGet:
		w.Header().Set("ETag", etag(cur))
		w.Header().Set("Content-Length", fmt.Sprint(len(cur)))
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(cur)
		}
	case r.Method == http.MethodDelete:
		f.mu.Lock()
		delete(f.objects, key)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(http.StatusNotImplemented, "NotImplemented")
	}
}

// TestNamedListsEveryCapability: the log and the status page show what
// Named lists; a capability added to the struct must be in it.
func TestNamedListsEveryCapability(t *testing.T) {
	var want []string
	typ := reflect.TypeOf(objstore.Capabilities{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type == reflect.TypeOf(objstore.Capability{}) {
			want = append(want, strings.Split(f.Tag.Get("json"), ",")[0])
		}
	}
	var got []string
	for _, c := range (objstore.Capabilities{}).Named() {
		got = append(got, c.Name)
	}
	require.Equal(t, want, got)
}
