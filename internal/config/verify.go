package config

// VerifyPolicy is a share's scheduled integrity check.
type VerifyPolicy struct{}

func (p *VerifyPolicy) applyDefaults(s *Share) {}

func (p *VerifyPolicy) validate(key string, s *Share, add addFunc) {}
