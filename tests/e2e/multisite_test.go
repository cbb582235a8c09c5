package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
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

// twoStudios is two appliances on one prefix, b's line to the bucket
// through a fault proxy, with one file synced on both.
type twoStudios struct {
	a, b *harness.Appliance
	line *harness.FaultProxy
}

func startTwoStudios(t *testing.T, rel string) *twoStudios {
	t.Helper()
	m := harness.StartMinIO(t)
	s := &twoStudios{line: harness.StartFaultProxy(t, strings.TrimPrefix(m.Endpoint, "http://"))}
	s.a = harness.StartAppliance(t, m, harness.ApplianceOptions{Name: "studio-a", RemoteInterval: time.Second, DeleteGuardPercent: 100})
	s.b = harness.StartAppliance(t, m, harness.ApplianceOptions{Name: "studio-b", RemoteInterval: time.Second, DeleteGuardPercent: 100,
		Endpoint: "http://" + s.line.Addr})
	writeLocal(t, filepath.Join(s.a.SharePath, rel), 1, 64<<10)
	requireLocal(t, s.b, rel, 1, 64<<10)
	return s
}

// requireTree waits until both shares hold exactly want (name → seed of
// 64 KiB, or of size for those in sizes) under dir.
func (s *twoStudios) requireTree(t *testing.T, dir string, want map[string]uint64, sizes map[string]int64) {
	t.Helper()
	wantSums := map[string]string{}
	for name, seed := range want {
		size := int64(64 << 10)
		if n, ok := sizes[name]; ok {
			size = n
		}
		wantSums[dir+"/"+name] = sha256Of(seed, size)
	}
	for _, ap := range []*harness.Appliance{s.a, s.b} {
		var got map[string]string
		require.Eventually(t, func() bool {
			got = treeSums(t, ap.SharePath)
			for k := range got {
				if !strings.HasPrefix(k, dir+"/") {
					delete(got, k)
				}
			}
			return len(got) == len(wantSums) && func() bool {
				for k, v := range wantSums {
					if got[k] != v {
						return false
					}
				}
				return true
			}()
		}, 2*time.Minute, 200*time.Millisecond, "%s never held %v", ap.Name, want)
	}
}

// TestTwoStudioRaces: the pairwise races of two studios on one prefix,
// each with b's line cut while both act, then restored. Nothing a studio
// saved is lost. (Short names: smbd's sockets live under the test's
// temporary directory, and a Unix socket path has 108 bytes.)
func TestTwoStudioRaces(t *testing.T) {
	t.Run("edit-delete", func(t *testing.T) { // the edit survives
		s := startTwoStudios(t, "Music/show.mp3")
		s.line.Set(t, harness.Refuse, 0, 0)
		require.NoError(t, os.Remove(filepath.Join(s.a.SharePath, "Music/show.mp3")))
		writeLocal(t, filepath.Join(s.b.SharePath, "Music/show.mp3"), 2, 64<<10)
		time.Sleep(3 * time.Second) // a's delete reaches the bucket
		s.line.Set(t, harness.Pass, 0, 0)
		s.requireTree(t, "Music", map[string]uint64{"show.mp3": 2}, nil)
	})
	t.Run("delete-delete", func(t *testing.T) { // gone everywhere, no error
		s := startTwoStudios(t, "Music/show.mp3")
		s.line.Set(t, harness.Refuse, 0, 0)
		require.NoError(t, os.Remove(filepath.Join(s.a.SharePath, "Music/show.mp3")))
		require.NoError(t, os.Remove(filepath.Join(s.b.SharePath, "Music/show.mp3")))
		time.Sleep(3 * time.Second)
		s.line.Set(t, harness.Pass, 0, 0)
		writeLocal(t, filepath.Join(s.a.SharePath, "Music/after.mp3"), 3, 64<<10) // both are syncing again
		s.requireTree(t, "Music", map[string]uint64{"after.mp3": 3}, nil)
		for _, ap := range []*harness.Appliance{s.a, s.b} {
			require.Eventually(t, func() bool {
				st, err := ap.Status()
				return err == nil && st.Shares[0].State == "in-sync" && st.Shares[0].LastError == nil
			}, time.Minute, 200*time.Millisecond, "%s in sync without an error", ap.Name)
		}
	})
	t.Run("rename-edit", func(t *testing.T) { // both names, the edit at the old one
		s := startTwoStudios(t, "Music/show.mp3")
		s.line.Set(t, harness.Refuse, 0, 0)
		require.NoError(t, os.Rename(filepath.Join(s.a.SharePath, "Music/show.mp3"), filepath.Join(s.a.SharePath, "Music/renamed.mp3")))
		writeLocal(t, filepath.Join(s.b.SharePath, "Music/show.mp3"), 2, 64<<10)
		time.Sleep(3 * time.Second)
		s.line.Set(t, harness.Pass, 0, 0)
		s.requireTree(t, "Music", map[string]uint64{"renamed.mp3": 1, "show.mp3": 2}, nil)
	})
}

// peersOf is the appliances ap's status lists on its share's prefix.
func peersOf(t *testing.T, ap *harness.Appliance) model.Peers {
	t.Helper()
	st, err := ap.Status()
	require.NoError(t, err)
	require.NotNil(t, st.Shares[0].Peers, "%s keeps heartbeats", ap.Name)
	return *st.Shares[0].Peers
}

func peerNamed(ps model.Peers, name string) (model.Peer, bool) {
	for _, p := range ps.Appliances {
		if p.Name == name {
			return p, true
		}
	}
	return model.Peer{}, false
}

// TestAppliancesSeeEachOther: appliances on one prefix list each other
// from their heartbeats, with what each wrote last; one that stops is
// shown stopped; a second appliance under a name already live there is
// an error on both.
func TestAppliancesSeeEachOther(t *testing.T) {
	m := harness.StartMinIO(t)
	opts := func(name string) harness.ApplianceOptions {
		return harness.ApplianceOptions{Name: name, RemoteInterval: time.Second, Heartbeat: time.Second}
	}
	a := harness.StartAppliance(t, m, opts("studio-a"))
	b := harness.StartAppliance(t, m, opts("studio-b"))
	writeLocal(t, filepath.Join(b.SharePath, "News/top of the hour.mp3"), 1, 32<<10)

	require.Eventually(t, func() bool {
		p, ok := peerNamed(peersOf(t, a), "studio-b")
		return ok && p.State() == "live" && p.LastWrotePath == "News/top of the hour.mp3"
	}, time.Minute, 200*time.Millisecond, "a lists b, live, with what it wrote last")
	self, ok := peerNamed(peersOf(t, a), "studio-a")
	require.True(t, ok)
	require.True(t, self.Self)
	require.Empty(t, peersOf(t, a).Duplicate)

	b.Stop()
	require.Eventually(t, func() bool {
		p, ok := peerNamed(peersOf(t, a), "studio-b")
		return ok && p.Stopped
	}, time.Minute, 200*time.Millisecond, "a stopped appliance is shown stopped, not silent")

	// A second studio-a on the prefix: both say so.
	twin := harness.StartAppliance(t, m, opts("studio-a"))
	for _, ap := range []*harness.Appliance{a, twin} {
		require.Eventually(t, func() bool {
			d := peersOf(t, ap).Duplicate
			return strings.Contains(d, "another appliance named studio-a is live on this prefix")
		}, time.Minute, 200*time.Millisecond, "%s (%s) reports the duplicate name", ap.Name, ap.StatusURL)
	}
}
