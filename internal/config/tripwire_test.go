package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTripwirePolicy(t *testing.T) {
	for _, tc := range []struct {
		name, yaml  string
		on          bool
		maxRewrites int
		window      time.Duration
		notes       int
		err         string
	}{
		{"defaults", "", true, DefaultTripwireMaxRewrites, DefaultTripwireWindow, DefaultTripwireNoteFolders, ""},
		{"set", "    tripwire: {max_rewrites: 20, window: 5m, note_folders: 5}\n", true, 20, 5 * time.Minute, 5, ""},
		{"off", "    tripwire: {enabled: false}\n", false, DefaultTripwireMaxRewrites, DefaultTripwireWindow, DefaultTripwireNoteFolders, ""},
		{"negative count", "    tripwire: {max_rewrites: -1}\n", false, 0, 0, 0, "shares.studio.tripwire.max_rewrites"},
		{"window too short", "    tripwire: {window: 100ms}\n", false, 0, 0, 0, "shares.studio.tripwire.window"},
		{"window too long", "    tripwire: {window: 48h}\n", false, 0, 0, 0, "shares.studio.tripwire.window"},
		{"one note folder", "    tripwire: {note_folders: 1}\n", false, 0, 0, 0, "shares.studio.tripwire.note_folders"},
		{"unknown key", "    tripwire: {max_rewrite: 10}\n", false, 0, 0, 0, "max_rewrite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(minimal+tc.yaml), nil)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			p := cfg.Shares["studio"].Tripwire
			require.Equal(t, tc.on, p.On())
			require.Equal(t, tc.maxRewrites, p.MaxRewrites)
			require.Equal(t, tc.window, p.Window)
			require.Equal(t, tc.notes, p.NoteFolders)
		})
	}
}
