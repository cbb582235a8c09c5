package config

import "time"

// Playout defaults: transfers slow to 32 MiB/s (hashing and sending both
// count), one at a time, while SMB clients read 32 KiB/s or more, and go
// back to full speed 15 s after the reads stop. A playout PC playing a
// 320 kbit/s MP3 reads 40 KB/s, a 44.1 kHz stereo WAV 176 KB/s; an idle
// client's keepalives and a folder listing stay far below.
const (
	DefaultPlayoutRate       = 32 << 20
	DefaultPlayoutTransfers  = 1
	DefaultPlayoutThreshold  = 32 << 10
	DefaultPlayoutQuietAfter = 15 * time.Second
)

// Playout configures playout-aware transfers: while SMB clients read from
// the shares (a playout PC on air), uploads and downloads yield CPU and
// disk to smbd. It watches the kernel's per-socket byte counts on the SMB
// port, so it needs Samba in standalone or appliance mode.
type Playout struct {
	// Aware turns playout-aware transfers on (default true).
	Aware *bool `mapstructure:"aware"`
	// Rate is the bytes per second all transfers together may read or
	// write while playout is active (an upload hashes its file, then
	// sends it: each pass counts).
	Rate ByteSize `mapstructure:"rate"`
	// Transfers is how many files may transfer at once while playout is
	// active.
	Transfers int `mapstructure:"transfers"`
	// Threshold is the rate SMB clients read at, in bytes per second,
	// from which they count as playing out.
	Threshold ByteSize `mapstructure:"threshold"`
	// QuietAfter is how long reads must stay under Threshold before
	// transfers go back to full speed.
	QuietAfter time.Duration `mapstructure:"quiet_after"`
}

// IsAware reports whether transfers yield to playout.
func (p *Playout) IsAware() bool { return p.Aware == nil || *p.Aware }

func (p *Playout) applyDefaults() {
	if p.Rate == 0 {
		p.Rate = DefaultPlayoutRate
	}
	if p.Transfers == 0 {
		p.Transfers = DefaultPlayoutTransfers
	}
	if p.Threshold == 0 {
		p.Threshold = DefaultPlayoutThreshold
	}
	if p.QuietAfter == 0 {
		p.QuietAfter = DefaultPlayoutQuietAfter
	}
}

func (p *Playout) validate(key string, add addFunc) {
	if p.Rate < 64<<10 {
		add(key+".rate", "must be at least 64KiB per second; got %d", p.Rate)
	}
	if p.Transfers < 1 || p.Transfers > 64 {
		add(key+".transfers", "must be 1-64; got %d", p.Transfers)
	}
	if p.Threshold < 4<<10 {
		add(key+".threshold", "must be at least 4KiB per second; got %d", p.Threshold)
	}
	if p.QuietAfter < time.Second || p.QuietAfter > time.Hour {
		add(key+".quiet_after", "must be between 1s and 1h; got %s", p.QuietAfter)
	}
}
