package status

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

const duplicate = "another appliance named studio-a is live on this prefix (version 1.5.0, started 2026-03-01 11:00:00 UTC, last seen 2026-03-01 11:59:30 UTC, instance 0123456789abcdef): the two overwrite each other's heartbeat and name the same writer in what they write; give one of them another appliance.name"

// peersSnapshot is hostileSnapshot with the appliances on studio's
// prefix: this one, a live one that wrote a file, a stale one and a
// stopped one; a peer's version and paths are untrusted text.
func peersSnapshot() model.Snapshot {
	snap := hostileSnapshot()
	now := snap.Now
	snap.Shares[0].Peers = &model.Peers{Self: "studio-a", StaleAfterSeconds: 900, CheckedAt: now, Duplicate: duplicate,
		Skipped: []string{`.genesissync/appliances/Studio_E: "Studio_E" is no appliance name`},
		Appliances: []model.Peer{
			{Name: "studio-a", Version: "1.4.0", Self: true, Started: now.Add(-time.Hour), LastSeen: now},
			{Name: "studio-b", Version: hostile, LastSeen: now, LastWrotePath: "Music/" + hostile, LastWroteAt: now},
			{Name: "studio-c", Version: "1.3.2", LastSeen: now.Add(-20 * time.Minute), Stale: true},
			{Name: "studio-d", Version: "1.4.0", LastSeen: now.Add(-time.Hour), Stopped: true},
		}}
	snap.Shares = append(snap.Shares, model.Share{Status: reconcile.Status{Name: "news"}}) // no heartbeats kept
	return snap
}

// TestPeersRow: a share whose heartbeats are kept has a row of the
// appliances on its prefix: each with its name (ours marked), version,
// last seen, state and last file, escaped; the duplicate prominently,
// the skipped objects; the API carries them.
func TestPeersRow(t *testing.T) {
	srv := New(fixed(peersSnapshot()), zerolog.Nop(), Options{Public: true})
	code, page := get(t, srv, "/")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 1, strings.Count(page, `<tr class="peers"><th>Appliances on this prefix</th>`), "only the share with heartbeats")
	require.NotContains(t, page, hostile, "escaped")
	require.Contains(t, page, `<p class="err duplicate" data-b="peers.duplicate">another appliance named studio-a is live on this prefix (version 1.5.0,`)
	require.Contains(t, page, `not heartbeats, skipped: .genesissync/appliances/Studio_E: &#34;Studio_E&#34; is no appliance name`)

	_, items := lists(t, page)
	var shown []string
	for _, it := range items["peers.appliances"] {
		var nonEmpty []string
		for i, text := range it.texts {
			if text == "" {
				continue
			}
			if it.fields[i] == "last_seen" || it.fields[i] == "last_wrote_path" { // "… ago", moving with the clock
				text, _, _ = strings.Cut(text, " ago")
				text = text[:strings.LastIndex(text, " ")]
			}
			nonEmpty = append(nonEmpty, text)
		}
		shown = append(shown, strings.Join(nonEmpty, " · "))
	}
	require.Equal(t, []string{
		"studio-a · this one · 1.4.0 · last seen · live",
		"studio-b · &lt;script&gt;alert(1)&lt;/script&gt;.mp3 · last seen · live · wrote Music/&lt;script&gt;alert(1)&lt;/script&gt;.mp3",
		"studio-c · 1.3.2 · last seen · stale",
		"studio-d · 1.4.0 · last seen · stopped",
	}, shown)
	require.Contains(t, page, `<span class="f-last_seen">last seen 20m00s ago</span><span class="f-stale">stale</span>`)

	code, body := get(t, srv, "/api/status")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"peers": {`)
	require.Contains(t, body, `"self": "studio-a"`)
	require.Contains(t, body, `"duplicate": "another appliance named studio-a`)
	require.Contains(t, body, `"stale": true`)
	require.Equal(t, 1, strings.Count(body, `"peers"`), "absent where no heartbeat is kept")

	// Without a duplicate its paragraph is there for live updates, empty.
	snap := peersSnapshot()
	snap.Shares[0].Peers.Duplicate, snap.Shares[0].Peers.Skipped = "", nil
	_, page = get(t, New(fixed(snap), zerolog.Nop(), Options{Public: true}), "/")
	require.Contains(t, page, `<p class="err duplicate" data-b="peers.duplicate"></p>`)
	require.Contains(t, page, `<span class="warn" data-b="peers.skipped" data-f="skipped"></span>`)
}
