package objstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSortVersionsLatestFirst: a key's latest version or delete marker
// comes first wherever the page put it and whatever its date: one written
// in the same second as the version it hides (SeaweedFS keeps whole
// seconds), or dated before a non-current version (versitygw dates those
// by when it moved them aside); the rest newest first.
func TestSortVersionsLatestFirst(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	vs := []Version{
		{Object: Object{Key: "a.mp3", VersionID: "v2", LastModified: at}},                                     // the page's versions first
		{Object: Object{Key: "a.mp3", VersionID: "v1", LastModified: at.Add(-time.Minute)}},                   //
		{Object: Object{Key: "a.mp3", VersionID: "d1", LastModified: at}, IsLatest: true, DeleteMarker: true}, // then its markers
		{Object: Object{Key: "b.mp3", VersionID: "w2", LastModified: at}, IsLatest: true},
		{Object: Object{Key: "b.mp3", VersionID: "w1", LastModified: at}},
		{Object: Object{Key: "c.mp3", VersionID: "x1", LastModified: at.Add(time.Second)}},
		{Object: Object{Key: "c.mp3", VersionID: "x0", LastModified: at.Add(-time.Hour)}},
		{Object: Object{Key: "c.mp3", VersionID: "xd", LastModified: at.Add(-time.Millisecond)}, IsLatest: true, DeleteMarker: true},
	}
	sortVersions(vs)
	var got []string
	for _, v := range vs {
		got = append(got, v.VersionID)
	}
	require.Equal(t, []string{"d1", "v2", "v1", "w2", "w1", "xd", "x1", "x0"}, got)
}
