package bucketevents

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// minioRecord builds the body MinIO's webhook target posts for one event,
// with the key already escaped as MinIO escapes it (url.QueryEscape).
func minioRecord(name, bucket, escapedKey string) string {
	return `{"EventName":"` + name + `","Key":"ignored","Records":[{"eventVersion":"2.0","eventSource":"minio:s3",` +
		`"awsRegion":"","eventTime":"2026-11-22T01:17:46.497Z","eventName":"` + name + `",` +
		`"userIdentity":{"principalId":"minio"},"requestParameters":{"principalId":"minio","region":"","sourceIPAddress":"127.0.0.1"},` +
		`"responseElements":{"x-amz-request-id":"18EA392CE765C174"},` +
		`"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"` + bucket + `","ownerIdentity":{"principalId":"minio"},"arn":"arn:aws:s3:::` + bucket + `"},` +
		`"object":{"key":"` + escapedKey + `","size":42,"eTag":"\"32145cba297336c3b0df802a2bcc48fa\"","sequencer":"18EA392CE8206E14"}},` +
		`"source":{"host":"127.0.0.1","port":"","userAgent":"test"}}]}`
}

// TestParseMinIOPayloads parses what a real MinIO sent (captured by
// tests/e2e TestBucketEvents with -update-events).
func TestParseMinIOPayloads(t *testing.T) {
	cases := []struct {
		file, name, key string
		size            int64
	}{
		{"minio-put.json", "s3:ObjectCreated:Put", "studio/azuracast/Live + Talk 100% Übertragung.mp3", 524288},
		{"minio-multipart.json", "s3:ObjectCreated:CompleteMultipartUpload", "studio/jingles/Ident #2 (long).mp3", 262144},
		{"minio-delete.json", "s3:ObjectRemoved:Delete", "studio/azuracast/Live + Talk 100% Übertragung.mp3", 0},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			events, err := Parse(data)
			require.NoError(t, err)
			require.Len(t, events, 1)
			e := events[0]
			require.NoError(t, e.KeyErr)
			require.Equal(t, tc.name, e.Name)
			require.Equal(t, "station", e.Bucket)
			require.Equal(t, tc.key, e.Key)
			require.Equal(t, tc.size, e.Size)
			require.True(t, e.Changes())
		})
	}
}

func TestParseKeys(t *testing.T) {
	cases := []struct {
		name, escaped, want string
	}{
		{"plain", "jingles%2Fident.mp3", "jingles/ident.mp3"},
		{"plus is space", "Live+Talk.mp3", "Live Talk.mp3"},
		{"escaped plus", "a%2Bb.mp3", "a+b.mp3"},
		{"plus and spaces", "Live+%2B+Talk.mp3", "Live + Talk.mp3"},
		{"percent", "100%25+Hits.mp3", "100% Hits.mp3"},
		{"percent before hex digits", "%2541.mp3", "%41.mp3"},
		{"non-ASCII", "%C3%9Cbertragung+%E6%97%A5%E6%9C%AC.mp3", "Übertragung 日本.mp3"},
		{"emoji", "%F0%9F%8E%B5.mp3", "🎵.mp3"},
		{"raw UTF-8 passes", "Übertragung.mp3", "Übertragung.mp3"},
		{"escaped slash and dots", "a%2F..%2Fb", "a/../b"}, // decoded faithfully; keymap refuses it
		{"escaped NUL", "a%00b", "a\x00b"},                 // likewise
		{"directory marker", "jingles%2F", "jingles/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, err := Parse([]byte(minioRecord("s3:ObjectCreated:Put", "station", tc.escaped)))
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.NoError(t, events[0].KeyErr)
			require.Equal(t, tc.want, events[0].Key)
			require.Equal(t, "32145cba297336c3b0df802a2bcc48fa", events[0].ETag, "quotes trimmed")
		})
	}
}

func TestParseOddBodies(t *testing.T) {
	cases := []struct {
		name, body string
		wantErr    bool
		records    int
		keyErr     bool
	}{
		{"S3 test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-22T01:17:46.497Z","Bucket":"station","RequestId":"X","HostId":"Y"}`, false, 0, false},
		{"no records", `{"EventName":"s3:ObjectCreated:Put","Key":"station/a"}`, false, 0, false},
		{"empty object", `{}`, false, 0, false},
		{"bad escape", minioRecord("s3:ObjectCreated:Put", "station", "a%zz"), false, 1, true},
		{"truncated escape", minioRecord("s3:ObjectCreated:Put", "station", "a%2"), false, 1, true},
		{"no key", minioRecord("s3:ObjectCreated:Put", "station", ""), false, 1, true},
		{"not JSON", `Key=station/a`, true, 0, false},
		{"JSON array", `[]`, true, 0, false},
		{"truncated", minioRecord("s3:ObjectCreated:Put", "station", "a")[:100], true, 0, false},
		{"records not a list", `{"Records":{}}`, true, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, err := Parse([]byte(tc.body))
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Len(t, events, tc.records)
			if tc.records > 0 {
				require.Equal(t, tc.keyErr, events[0].KeyErr != nil, "%v", events[0].KeyErr)
				if tc.keyErr {
					require.Empty(t, events[0].Key)
				}
			}
		})
	}
}

func TestChanges(t *testing.T) {
	for name, want := range map[string]bool{
		"s3:ObjectCreated:Put":                      true,
		"s3:ObjectCreated:Post":                     true,
		"s3:ObjectCreated:Copy":                     true,
		"s3:ObjectCreated:CompleteMultipartUpload":  true,
		"s3:ObjectCreated:PutTagging":               true,
		"s3:ObjectRemoved:Delete":                   true,
		"s3:ObjectRemoved:DeleteMarkerCreated":      true,
		"s3:ObjectRemoved:DeleteAllVersions":        true,
		"s3:ObjectAccessed:Get":                     false,
		"s3:ObjectAccessed:Head":                    false,
		"s3:Replication:OperationFailedReplication": false,
		"s3:ObjectTransition:Complete":              false,
		"s3:ObjectRestore:Completed":                false,
		"s3:Scanner:ManyVersions":                   false,
		"s3:BucketCreated:*":                        false,
		"s3:TestEvent":                              false,
		"":                                          false,
		"s3:ObjectCreated":                          false,
	} {
		require.Equal(t, want, Event{Name: name}.Changes(), name)
	}
}
