package config

import "time"

// Verify defaults: a sampled pass of a tenth of the files once a day,
// stored hashes only (cheap: listings, HEADs and the index).
const (
	DefaultVerifyInterval      = 24 * time.Hour
	DefaultVerifySamplePercent = 10.0
)

// VerifyPolicy is a share's scheduled integrity check (the restore
// package's Verify, run by the daemon).
type VerifyPolicy struct {
	// Interval is the time between scheduled verifies; unset means
	// DefaultVerifyInterval, 0 turns the schedule off (verify then runs
	// only on demand).
	Interval *time.Duration `mapstructure:"interval"`
	// SamplePercent is the share of files whose content each run checks,
	// above 0 and up to 100; unset (0) means DefaultVerifySamplePercent.
	// Files missing on either side are always found, whatever the sample.
	SamplePercent float64 `mapstructure:"sample_percent"`
	// Deep reads the data on both sides instead of trusting stored
	// hashes: it finds bit rot, and costs a full read of the sample.
	Deep bool `mapstructure:"deep"`
}

// Period is the effective interval; 0 means no schedule.
func (p VerifyPolicy) Period() time.Duration {
	if p.Interval == nil {
		return DefaultVerifyInterval
	}
	return *p.Interval
}

func (p *VerifyPolicy) applyDefaults(s *Share) {
	if p.Interval == nil {
		d := DefaultVerifyInterval
		p.Interval = &d
	}
	if p.SamplePercent == 0 {
		p.SamplePercent = DefaultVerifySamplePercent
	}
}

func (p *VerifyPolicy) validate(key string, s *Share, add addFunc) {
	if iv := p.Period(); iv < 0 {
		add(key+".interval", "must not be negative (0 turns scheduled verify off), got %s", iv)
	} else if iv > 0 && iv < time.Minute {
		add(key+".interval", "must be at least 1m (or 0 to turn scheduled verify off), got %s", iv)
	}
	if p.SamplePercent <= 0 || p.SamplePercent > 100 {
		add(key+".sample_percent", "must be above 0 and at most 100, got %g", p.SamplePercent)
	}
}
