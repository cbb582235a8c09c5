package config

import "net"

// Status configures the status page and JSON API.
type Status struct {
	// Listen is the HTTP listen address; empty turns the server off.
	Listen string `mapstructure:"listen"`
}

func (s *Status) applyDefaults() {}

func (s *Status) validate(key string, add addFunc) {
	if s.Listen != "" {
		if _, _, err := net.SplitHostPort(s.Listen); err != nil {
			add(key+".listen", "must be host:port: %v", err)
		}
	}
}
