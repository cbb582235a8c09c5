package config

import (
	"net"
	"regexp"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// DefaultSessionTTL is how long a status page login lasts.
const DefaultSessionTTL = 12 * time.Hour

// Status configures the status page and JSON API.
type Status struct {
	// Listen is the HTTP listen address; empty turns the server off.
	Listen string `mapstructure:"listen"`
	// Admins may log in to the status page and run admin actions (sync
	// now, pause, snapshot, restore, approve deletes, ...), by user name.
	// Without admins the page is read-only.
	Admins map[string]Admin `mapstructure:"admins"`
	// Public leaves the read-only view (page, /api/status, the live
	// stream) open without a login. Default true; false requires a login
	// to see anything but /healthz, /readyz and /metrics.
	Public *bool `mapstructure:"public"`
	// SessionTTL is how long a login lasts. Default 12h.
	SessionTTL time.Duration `mapstructure:"session_ttl"`
	// SecureCookie marks the session cookie Secure (sent over HTTPS only).
	// Default true; set false only when the page is served over plain
	// HTTP on a trusted network or loopback (the demo).
	SecureCookie *bool `mapstructure:"secure_cookie"`
}

// Admin is one status page administrator.
type Admin struct {
	// PasswordHash is a bcrypt hash of the password, e.g. from
	// `genesissync hash-password` or `htpasswd -nbBC 10 "" PASS | cut -d: -f2`.
	PasswordHash Secret `mapstructure:"password_hash"`
}

// IsPublic reports whether the read-only view needs no login.
func (s *Status) IsPublic() bool { return s.Public == nil || *s.Public }

// IsSecureCookie reports whether the session cookie is Secure.
func (s *Status) IsSecureCookie() bool { return s.SecureCookie == nil || *s.SecureCookie }

// AdminHashes returns the admins' bcrypt hashes by user name. The caller
// must not log or render them.
func (s *Status) AdminHashes() map[string]string {
	out := make(map[string]string, len(s.Admins))
	for name, a := range s.Admins {
		out[name] = a.PasswordHash.Reveal()
	}
	return out
}

func (s *Status) applyDefaults() {
	if s.SessionTTL == 0 {
		s.SessionTTL = DefaultSessionTTL
	}
}

var adminName = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,31}$`)

func (s *Status) validate(key string, add addFunc) {
	if s.Listen != "" {
		if _, _, err := net.SplitHostPort(s.Listen); err != nil {
			add(key+".listen", "must be host:port: %v", err)
		}
	}
	if s.SessionTTL < time.Minute {
		add(key+".session_ttl", "must be at least 1m; got %s", s.SessionTTL)
	}
	for name, a := range s.Admins {
		k := key + ".admins." + name
		if !adminName.MatchString(name) {
			add(k, "admin names are lower-case letters, digits, '.', '_' or '-', starting with a letter, at most 32")
		}
		// Never echo the hash: say only what is wrong with it.
		if a.PasswordHash == "" {
			add(k+".password_hash", "is required (a bcrypt hash; see `genesissync hash-password`)")
		} else if cost, err := bcrypt.Cost([]byte(a.PasswordHash.Reveal())); err != nil {
			add(k+".password_hash", "is not a bcrypt hash")
		} else if cost < 10 {
			add(k+".password_hash", "bcrypt cost %d is too low; use at least 10", cost)
		}
	}
}
