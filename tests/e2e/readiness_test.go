package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
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

// TestReadiness writes next hour's playlist over SMB as StationPlaylist
// Creator would, naming a track on the share, one only in the bucket (put
// there after the last listing, as AzuraCast would, with the next listing
// an hour away), one whose name the appliance refuses, and one that is
// nowhere. The bucket-only track is fetched at once; the missing and the
// refused ones are reported with their playlist line and air time, and
// track_missing names the one that airs first; fixing both resolves it.
func TestReadiness(t *testing.T) {
	in := &alertInbox{t: t}
	hook := httptest.NewServer(in.webhookStandIn("tok-readiness"))
	defer hook.Close()
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		RemoteInterval: time.Hour, // only the readiness check brings the bucket-only track down
		ShareConfig: `    readiness:
      playlists: ['Playlists/*.m3u']
      path_map: {'Z:\': ''}
      interval: 10s`,
		Config: fmt.Sprintf(`alerts:
  name: e2e-box
  interval: 1s
  for: 1s
  webhooks: [{url: %q, token: tok-readiness}]
`, hook.URL+"/genesis"),
	})
	require.Eventually(t, func() bool { return !a.Share(t).LastRemoteListDone.IsZero() }, 30*time.Second, 100*time.Millisecond, "the first listing")
	putObject(t, a.Store, "Music/From AzuraCast.mp3", []byte("a track the web app uploaded"))

	c := a.SMB(t)
	writeSMB(t, c, "Music/Present.mp3", 1, 64<<10)
	require.Eventually(t, func() bool { sh := a.Share(t); return sh.FilesTracked == 1 && sh.State == "in-sync" }, 30*time.Second, 100*time.Millisecond)

	start := time.Now().Truncate(time.Hour).Add(time.Hour)
	name := "Playlists/" + start.Format("2006-01-02-15") + ".m3u"
	playlist := func(withRefused bool) []byte {
		lines := []string{"#EXTM3U", "#EXTINF:180,Band - Present Song", `Z:\Music\Present.mp3`}
		if withRefused {
			lines = append(lines, "#EXTINF:200,Band - Reserved Name", `Z:\Music\CON.mp3`)
		}
		lines = append(lines, "#EXTINF:190,Web - From AzuraCast", `z:\music\from azuracast.MP3`, // the case Creator wrote
			"#EXTINF:240,Band - Missing Song", `Z:\Music\Missing.mp3`)
		return []byte(strings.Join(lines, "\r\n") + "\r\n")
	}
	require.NoError(t, c.MkdirAll("Playlists", 0o755))
	require.NoError(t, c.WriteFile(name, playlist(true), 0o644))
	landed := time.Now()

	var rd model.Readiness
	require.Eventually(t, func() bool {
		rd = a.Share(t).Readiness
		return rd.CheckedAt.After(landed) && rd.Playlists == 1
	}, 30*time.Second, 50*time.Millisecond, "the playlist was never checked")
	t.Logf("playlist on the share to its problems on the API: %s", time.Since(landed).Round(time.Millisecond))
	require.True(t, rd.Enabled)
	require.Equal(t, 4, rd.Tracks)
	reasons := map[string]model.ReadinessProblem{}
	for _, p := range rd.Problems {
		reasons[p.Path] = p
	}
	require.Len(t, reasons, 2, "only the missing and the refused track: %+v", rd.Problems)
	missing := reasons["Music/Missing.mp3"]
	require.Equal(t, "missing", missing.Reason)
	require.Equal(t, 9, missing.Line)
	require.Equal(t, "Missing Song", missing.Title)
	wantAir := start.Add((180 + 200 + 190) * time.Second)
	require.True(t, missing.Air.Equal(wantAir), "airs at %s, want %s", missing.Air, wantAir)
	require.Equal(t, "refused-name", reasons["Music/CON.mp3"].Reason)
	require.Len(t, rd.Hours, 1, "one hour of scheduled air")
	require.True(t, rd.Hours[0].Start.Equal(start))
	require.Equal(t, model.ReadinessHour{Start: rd.Hours[0].Start, Tracks: 4, Problems: 2, Level: "error"}, rd.Hours[0])

	// The bucket-only track comes down without a listing, in the bucket's case.
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(a.SharePath, "Music", "From AzuraCast.mp3"))
		return err == nil && string(b) == "a track the web app uploaded"
	}, 30*time.Second, 100*time.Millisecond, "the bucket-only track was not fetched")

	const key = "track_missing:studio"
	require.Eventually(t, func() bool { _, ok := in.hook("firing", key, 0); return ok }, 30*time.Second, 100*time.Millisecond, "track_missing never fired")
	fired, _ := in.hook("firing", key, 0)
	// It names the problem that airs first, and counts the others.
	first := reasons["Music/CON.mp3"]
	require.True(t, first.Air.Equal(start.Add(180*time.Second)), "airs at %s", first.Air)
	require.Contains(t, fired.Message, first.Air.Local().Format("2006-01-02 15:04")+" Band - Reserved Name is refused-name (Music/CON.mp3; "+name+", line 5); 2 problems in all")
	require.Equal(t, "Music/CON.mp3", fired.Path)

	// Fixed: the track saved, the refused entry taken out of the playlist.
	writeSMB(t, c, "Music/Missing.mp3", 2, 32<<10)
	require.NoError(t, c.WriteFile(name, playlist(false), 0o644))
	require.Eventually(t, func() bool { _, ok := in.hook("resolved", key, 0); return ok }, 45*time.Second, 200*time.Millisecond, "track_missing never resolved")
	rd = a.Share(t).Readiness
	require.Empty(t, rd.Problems)
	require.Equal(t, 3, rd.OK)
}

// putObject writes an object as another tool would.
func putObject(t *testing.T, s objstore.Store, key string, data []byte) {
	t.Helper()
	sum := sha256.Sum256(data)
	_, err := s.Put(context.Background(), objstore.PutInput{Key: key, Body: bytes.NewReader(data), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Mtime: time.Now()})
	require.NoError(t, err)
}
