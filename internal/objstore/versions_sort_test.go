package objstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSortVersionsTies: a delete marker written in the same second as the
// version it hides (a server that keeps whole seconds, SeaweedFS) comes
// first because it is the latest, wherever the page put it.
func TestSortVersionsTies(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	vs := []Version{
		{Object: Object{Key: "a.mp3", VersionID: "v2", LastModified: at}},                                     // the page's versions first
		{Object: Object{Key: "a.mp3", VersionID: "v1", LastModified: at.Add(-time.Minute)}},                   //
		{Object: Object{Key: "a.mp3", VersionID: "d1", LastModified: at}, IsLatest: true, DeleteMarker: true}, // then its markers
		{Object: Object{Key: "b.mp3", VersionID: "w2", LastModified: at}, IsLatest: true},
		{Object: Object{Key: "b.mp3", VersionID: "w1", LastModified: at}},
	}
	sortVersions(vs)
	var got []string
	for _, v := range vs {
		got = append(got, v.VersionID)
	}
	require.Equal(t, []string{"d1", "v2", "v1", "w2", "w1"}, got)
}
