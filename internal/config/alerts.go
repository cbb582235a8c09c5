package config

// Alerts configures where alerts are sent.
type Alerts struct{}

func (a *Alerts) applyDefaults() {}

func (a *Alerts) validate(key string, add addFunc) {}
