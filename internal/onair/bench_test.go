package onair

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/readiness"
)

// BenchmarkCheck50k is one check of 50,000 scheduled entries (25 hourly
// playlists of 2,000) naming 10,000 distinct tracks on a real share with a
// real index, 1 in 10 of them missing: the cost the issue asks for, with
// the stat and index reads the synthetic benchmark in readiness leaves
// out. Run: go test -run '^$' -bench Check50k -benchmem ./internal/onair/
func BenchmarkCheck50k(b *testing.B) {
	s := newStation(b)
	const tracks, perList, lists = 10000, 2000, 25
	for i := range tracks {
		if i%10 != 0 {
			s.synced(b, fmt.Sprintf("Music/%03d/Track %05d.mp3", i%100, i), "x")
		}
	}
	start := time.Now().Truncate(time.Hour).Add(time.Hour)
	for l := range lists {
		var pl strings.Builder
		pl.WriteString("#EXTM3U\r\n")
		for e := range perList {
			i := (l*perList + e) % tracks
			fmt.Fprintf(&pl, "#EXTINF:1,Artist %d - Title %d\r\nZ:\\Music\\%03d\\Track %05d.mp3\r\n", i, i, i%100, i)
		}
		s.write(b, "Playlists/"+start.Add(time.Duration(l%23)*time.Hour).Format("2006-01-02-15")+fmt.Sprintf("-%02d.m3u", l), pl.String())
	}
	c, err := readiness.New(readiness.Policy{Share: "studio", Playlists: []string{"Playlists/*.m3u"}, Horizon: 24 * time.Hour,
		Mappings: []readiness.Mapping{{Windows: `Z:\`, Share: "studio"}}, Location: time.Local})
	require.NoError(b, err)
	r := New([]Share{s.share(b, c, func(string) {})}, zerolog.Nop())
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		r.Check(ctx, "studio", time.Now())
	}
	b.StopTimer()
	sh := modelShare("studio")
	r.Fill(&sh)
	require.Equal(b, lists*perList, sh.Readiness.Tracks)
	require.Equal(b, lists*perList/10, len(sh.Readiness.Problems))
}
