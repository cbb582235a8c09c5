package config

import (
	"os"
	"strings"
	"time"

	"genesissync/internal/objstore"
)

// Appliance is this appliance's identity among the appliances that share
// a bucket prefix (docs/multi-site.md).
type Appliance struct {
	// Name names the appliance in the metadata of every object it writes
	// (writer), in conflict copies made of another appliance's version
	// ("… (conflict 2026-12-07 1405 from studio-b).mp3") and in its
	// heartbeat on each prefix. Lower-case letters, digits and hyphens,
	// up to 63, starting with a letter or digit; default the host name's
	// first label, lower-cased. It must differ between appliances on one
	// prefix.
	Name string `mapstructure:"name"`
	// StaleAfter is how long another appliance on a prefix may go without
	// a heartbeat before the status page and an alert call it silent; 0
	// means 15 minutes.
	StaleAfter time.Duration `mapstructure:"stale_after"`
	// HeartbeatInterval is how often the appliance renews its heartbeat
	// on each share's prefix and reads the others' (one PUT, one listing
	// and a GET per changed heartbeat); 0 means a minute. It must be well
	// below StaleAfter.
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
}

// Defaults of the appliance section.
const (
	DefaultApplianceStaleAfter        = 15 * time.Minute
	DefaultApplianceHeartbeatInterval = time.Minute
)

// ValidApplianceName reports whether name may name an appliance: what
// the object store accepts as an object's writer.
func ValidApplianceName(name string) bool { return objstore.ValidWriter(name) }

// hostApplianceName is the default name: the host name's first label,
// lower-cased, or "" when that is no valid name.
func hostApplianceName() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h, _, _ = strings.Cut(strings.ToLower(h), ".")
	if !ValidApplianceName(h) {
		return ""
	}
	return h
}

func (a *Appliance) applyDefaults() {
	if a.Name == "" {
		a.Name = hostApplianceName()
	}
	if a.StaleAfter == 0 {
		a.StaleAfter = DefaultApplianceStaleAfter
	}
	if a.HeartbeatInterval == 0 {
		a.HeartbeatInterval = DefaultApplianceHeartbeatInterval
	}
}

func (a *Appliance) validate(add func(key, format string, args ...any)) {
	switch {
	case a.Name == "":
		add("appliance.name", "required: the host name is no valid appliance name (lower-case letters, digits and hyphens, up to 63)")
	case !ValidApplianceName(a.Name):
		add("appliance.name", "must be lower-case letters, digits and hyphens, up to 63, starting with a letter or digit; got %q", a.Name)
	}
	if a.StaleAfter < 0 {
		add("appliance.stale_after", "must be positive; got %s", a.StaleAfter)
	}
	switch {
	case a.HeartbeatInterval < 0:
		add("appliance.heartbeat_interval", "must be positive; got %s", a.HeartbeatInterval)
	case a.StaleAfter > 0 && a.HeartbeatInterval*3 > a.StaleAfter:
		add("appliance.heartbeat_interval", "must be at most a third of appliance.stale_after (%s), or a live appliance looks silent; got %s", a.StaleAfter, a.HeartbeatInterval)
	}
}
