package layout_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/keymap"
	"genesissync/internal/layout"
)

// TestIsInternal: the appliance's own objects are skipped; every other key
// in the reserved namespace, in any letter case or nested, is refused by
// keymap as reserved, so that no reserved key becomes a file and none is
// ignored without a trace.
func TestIsInternal(t *testing.T) {
	for _, tc := range []struct {
		key      string
		internal bool
		reserved bool // refused by keymap.LocalPath as reserved-prefix
	}{
		{".genesissync-share", true, true},
		{".genesissync-trash/2026-01-02/Music/a.mp3", true, true},
		{".genesissync-trash/", true, true},
		{".genesissync/probe/0123456789abcdef/race", true, true},
		{".genesissync/", true, true},
		{".genesissync/lease", true, true},
		{".genesissync/appliances/studio-a", true, true},

		// case variants of the appliance's names: not its objects
		{".GENESISSYNC-SHARE", false, true},
		{".GenesisSync-Trash/2026-01-02/a.mp3", false, true},
		{".Genesissync/probe/x", false, true},
		{".genesi\u017fsync-trash/x", false, true}, // long s folds to s
		// other names in the reserved namespace
		{".genesissync", false, true},
		{".genesissync-trash", false, true},
		{".genesissync-share/x", false, true},
		{".genesissync-tmp-0123-a.mp3", false, true},
		{".genesissync-snapshots/gs-2026-01-02-0300/a.mp3", false, true},
		{".genesissyncx", false, true},
		{"Music/.genesissync-share", false, true},
		{"Music/.genesissync-trash/a.mp3", false, true},
		{"Music/.genesissync/probe/x", false, true},
		// share content
		{"genesissync-share", false, false},
		{"Music/genesissync.mp3", false, false},
		{"x.genesissync", false, false},
		{"Music/a.mp3", false, false},
	} {
		t.Run(tc.key, func(t *testing.T) {
			require.Equal(t, tc.internal, layout.IsInternal(tc.key))
			_, err := keymap.LocalPath(tc.key)
			var refused *keymap.RefusedError
			if tc.reserved {
				require.ErrorAs(t, err, &refused)
				require.Equal(t, keymap.ReasonReservedPrefix, refused.Reason)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// TestNamesReserved: every name the appliance writes starts with the
// reserved prefix, so Samba's veto, the default excludes and keymap cover
// it.
func TestNamesReserved(t *testing.T) {
	for _, name := range []string{layout.ShareMarker, layout.TrashDir, layout.TempPrefix + layout.ImportTempTag,
		layout.SnapshotDir, layout.InternalPrefix, layout.ProbePrefix, layout.AppliancesPrefix} {
		require.True(t, strings.HasPrefix(name, layout.ReservedPrefix), name)
		require.Equal(t, layout.ReservedPrefix+"*", layout.ReservedPattern)
		require.False(t, layout.IsInternal(strings.ToUpper(name)), name)
	}
}
