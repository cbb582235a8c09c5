package config

// SnapshotPolicy is a share's ZFS snapshot schedule and retention.
type SnapshotPolicy struct{}

func (p *SnapshotPolicy) applyDefaults(s *Share) {}

func (p *SnapshotPolicy) validate(key string, s *Share, add addFunc) {}
