package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/tests/harness"
)

// TestConcurrentEditOnTwoAppliances: two appliances (two daemons) on one
// bucket prefix, studios "a" and "b". The same file is edited on both
// while b's line is cut; once it is back, both versions are kept on both
// shares, and the conflict copy says which appliance the other version
// came from.
func TestConcurrentEditOnTwoAppliances(t *testing.T) {
	m := harness.StartMinIO(t)
	line := harness.StartFaultProxy(t, strings.TrimPrefix(m.Endpoint, "http://"))
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{Name: "studio-a", RemoteInterval: time.Second})
	b := harness.StartAppliance(t, m, harness.ApplianceOptions{Name: "studio-b", RemoteInterval: time.Second, Endpoint: "http://" + line.Addr})

	writeLocal(t, filepath.Join(a.SharePath, "Music/show.mp3"), 1, 64<<10)
	requireLocal(t, b, "Music/show.mp3", 1, 64<<10)
	o, _ := waitObject(t, a.Store, "Music/show.mp3", time.Minute)
	require.Equal(t, "studio-a", o.Writer, "the object names its writer")

	line.Set(t, harness.Refuse, 0, 0)
	writeLocal(t, filepath.Join(a.SharePath, "Music/show.mp3"), 2, 80<<10) // studio a's edit goes up
	waitSynced(t, a.Store, "Music/show.mp3", 2, 80<<10)
	writeLocal(t, filepath.Join(b.SharePath, "Music/show.mp3"), 3, 96<<10) // studio b's edit waits
	time.Sleep(2 * time.Second)
	line.Set(t, harness.Pass, 0, 0)

	copyName := regexp.MustCompile(`^show \(conflict \d{4}-\d{2}-\d{2} \d{4} from studio-a\)\.mp3$`)
	for _, ap := range []*harness.Appliance{a, b} {
		var names []string
		require.Eventually(t, func() bool {
			names = namesIn(t, filepath.Join(ap.SharePath, "Music"))
			return len(names) == 2
		}, 2*time.Minute, 200*time.Millisecond, "%s: the path and one conflict copy: %v", ap.Name, names)
		var copy string
		for _, n := range names {
			if n != "show.mp3" {
				copy = n
			}
		}
		require.Regexp(t, copyName, copy, "%s: studio a's version, named after it", ap.Name)
		requireLocal(t, ap, "Music/show.mp3", 3, 96<<10) // b's edit won the path: it saw a's only as a conflict
		requireLocal(t, ap, "Music/"+copy, 2, 80<<10)    // a's edit is kept beside it
	}
}
