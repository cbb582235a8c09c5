package config

import "time"

// Tripwire defaults. Only rewrites that no longer match their file's
// format (or have no format the tripwire knows) and new files with a
// ransomware extension, or an extension never seen on the share, count:
// a replayed studio day of saves, re-tags and re-encodes counts none
// (docs/ransomware.md), so 50 in 10 minutes is far above honest work and
// bounds what an encrypting client can send before the share holds.
const (
	DefaultTripwireMaxRewrites = 50
	DefaultTripwireWindow      = 10 * time.Minute
	DefaultTripwireNoteFolders = 3
)

// TripwirePolicy is a share's ransomware tripwire (the tripwire package's
// judgements, applied by the share's pipeline before any byte of a
// change leaves for the bucket).
type TripwirePolicy struct {
	// Enabled: unset means on.
	Enabled *bool `mapstructure:"enabled"`
	// MaxRewrites is how many counted changes Window may hold before the
	// share trips; unset (0) means DefaultTripwireMaxRewrites.
	MaxRewrites int `mapstructure:"max_rewrites"`
	// Window is how far back the count reaches; unset (0) means
	// DefaultTripwireWindow.
	Window time.Duration `mapstructure:"window"`
	// NoteFolders is in how many folders at once ransom-note names trip
	// the share; unset (0) means DefaultTripwireNoteFolders.
	NoteFolders int `mapstructure:"note_folders"`
}

// On reports whether the tripwire runs.
func (p TripwirePolicy) On() bool { return p.Enabled == nil || *p.Enabled }

func (p *TripwirePolicy) applyDefaults() {
	if p.Enabled == nil {
		on := true
		p.Enabled = &on
	}
	if p.MaxRewrites == 0 {
		p.MaxRewrites = DefaultTripwireMaxRewrites
	}
	if p.Window == 0 {
		p.Window = DefaultTripwireWindow
	}
	if p.NoteFolders == 0 {
		p.NoteFolders = DefaultTripwireNoteFolders
	}
}

func (p *TripwirePolicy) validate(key string, add addFunc) {
	if p.MaxRewrites < 1 || p.MaxRewrites > 100000 {
		add(key+".max_rewrites", "must be 1-100000; got %d", p.MaxRewrites)
	}
	if p.Window < time.Second || p.Window > 24*time.Hour {
		add(key+".window", "must be between 1s and 24h; got %s", p.Window)
	}
	if p.NoteFolders < 2 || p.NoteFolders > 1000 {
		add(key+".note_folders", "must be 2-1000 (one note alone can be a person's file); got %d", p.NoteFolders)
	}
}
