package config

import (
	"fmt"
	"net"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"
)

var (
	// nameRE is what share and user names may be: they end up in smb.conf
	// section headers, Unix account names and metric labels.
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	// bucketRE is S3's bucket naming rule.
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// datasetRE is a ZFS dataset name (pool/child/...), never an option.
	datasetRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)*$`)
	// reservedShares are section names Samba gives a meaning.
	reservedShares = map[string]bool{"global": true, "homes": true, "printers": true, "ipc": true, "print": true}
)

func (c *Config) validate() Errors {
	var errs Errors
	add := func(key, format string, a ...any) {
		errs = append(errs, &Error{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	checkPath := func(key, p string, required bool) {
		switch {
		case p == "" && required:
			add(key, "required")
		case p == "":
		case !filepath.IsAbs(p):
			add(key, "must be an absolute path, got %q", p)
		case hasControl(p):
			add(key, "contains control characters")
		case filepath.Clean(p) != p:
			add(key, "must be a clean path (want %q)", filepath.Clean(p))
		}
	}

	checkPath("state_dir", c.StateDir, true)
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		add("log.level", "must be one of trace, debug, info, warn, error; got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		add("log.format", "must be json or console; got %q", c.Log.Format)
	}
	c.Status.validate("status", add)
	c.Appliance.validate(add)
	c.Alerts.validate("alerts", add)
	c.Playout.validate("playout", add)
	if c.Events.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Events.Listen); err != nil {
			add("events.listen", "must be host:port: %v", err)
		}
		switch tok := c.Events.Token.Reveal(); {
		case tok == "":
			add("events.token", "required when events.listen is set (MinIO sends it as auth_token)")
		case len(tok) < MinEventsToken:
			add("events.token", "must be at least %d characters; got %d", MinEventsToken, len(tok))
		case strings.ContainsFunc(tok, unicode.IsSpace) || hasControl(tok):
			// MinIO splits auth_token on white space: one more word and
			// it sends the token as the whole header, two more and none.
			add("events.token", "must not contain spaces or control characters")
		}
		if c.Status.Listen != "" && c.Events.Listen == c.Status.Listen {
			add("events.listen", "must differ from status.listen")
		}
	}

	switch c.Samba.Mode {
	case SambaStandalone, SambaAppliance, SambaOff:
	default:
		add("samba.mode", "must be standalone, appliance or off; got %q", c.Samba.Mode)
	}
	if net.ParseIP(c.Samba.Listen) == nil {
		add("samba.listen", "must be an IP address; got %q", c.Samba.Listen)
	}
	if c.Samba.Port < 1 || c.Samba.Port > 65535 {
		add("samba.port", "must be 1-65535; got %d", c.Samba.Port)
	}
	checkPath("samba.run_dir", c.Samba.RunDir, true)
	if n := len(c.Samba.RunDir); c.Samba.Mode != SambaOff && n > maxSambaRunDir {
		add("samba.run_dir", "is %d bytes long (from state_dir unless set): smbd's sockets under it (lock/msg.sock/PID) would pass the 108-byte limit of a Unix socket path and smbd would not start; use at most %d", n, maxSambaRunDir)
	}
	checkPath("samba.include_file", c.Samba.IncludeFile, c.Samba.Mode == SambaAppliance)
	if !nameRE.MatchString(c.Samba.ServiceUser) {
		add("samba.service_user", "must match %s; got %q", nameRE, c.Samba.ServiceUser)
	}
	if !netbiosOK(c.Samba.Workgroup) {
		add("samba.workgroup", "must be 1-15 letters, digits, '-' or '_'; got %q", c.Samba.Workgroup)
	}
	if !netbiosOK(c.Samba.NetbiosName) {
		add("samba.netbios_name", "must be 1-15 letters, digits, '-' or '_'; got %q", c.Samba.NetbiosName)
	}

	for _, name := range c.UserNames() {
		u := c.Users[name]
		key := "users." + name
		if !nameRE.MatchString(name) {
			add(key, "user name must match %s", nameRE)
		}
		if name == c.Samba.ServiceUser || name == "root" {
			add(key, "user name %q is reserved", name)
		}
		switch {
		case u.Password != "" && u.PasswordFile != "":
			add(key, "set password or password_file, not both")
		case u.Password == "" && u.PasswordFile == "":
			add(key, "needs password or password_file")
		case u.PasswordFile != "":
			checkPath(key+".password_file", u.PasswordFile, true)
		case hasControl(string(u.Password)):
			add(key+".password", "contains control characters")
		}
	}

	if len(c.Shares) == 0 {
		add("shares", "at least one share is required")
	}
	paths := map[string]string{}
	for _, name := range c.ShareNames() {
		s := c.Shares[name]
		key := "shares." + name
		if !nameRE.MatchString(name) || reservedShares[name] {
			add(key, "share name must match %s and not be a Samba reserved name", nameRE)
		}
		checkPath(key+".path", s.Path, true)
		if s.Dataset != "" && !datasetRE.MatchString(s.Dataset) {
			add(key+".dataset", "not a ZFS dataset name: %q", s.Dataset)
		}
		if s.Path == "/" {
			add(key+".path", "must not be the root directory")
		}
		for other, p := range paths {
			if s.Path != "" && (within(s.Path, p) || within(p, s.Path)) {
				add(key+".path", "overlaps share %q (%s)", other, p)
			}
		}
		if s.Path != "" {
			paths[name] = s.Path
		}
		if within(c.StateDir, s.Path) || within(s.Path, c.StateDir) {
			add(key+".path", "overlaps state_dir %s", c.StateDir)
		}
		for user, access := range s.Access {
			if _, ok := c.Users[user]; !ok {
				add(key+".access."+user, "no such user (define it under users)")
			}
			if access != AccessReadWrite && access != AccessReadOnly {
				add(key+".access."+user, "must be rw or ro; got %q", access)
			}
		}
		if s.Settle < 100*time.Millisecond || s.Settle > time.Hour {
			add(key+".settle", "must be between 100ms and 1h; got %s", s.Settle)
		}
		if s.ScanInterval < 10*time.Second {
			add(key+".scan_interval", "must be at least 10s; got %s", s.ScanInterval)
		}
		switch s.Delete {
		case DeleteMirror, DeleteKeep, DeleteUploadOnly:
		default:
			add(key+".delete", "must be mirror, keep or upload-only; got %q", s.Delete)
		}
		if s.TrashRetention < 24*time.Hour {
			add(key+".trash_retention", "must be at least 24h; got %s", s.TrashRetention)
		}
		if s.DeleteGuard.MaxFiles < 1 {
			add(key+".delete_guard.max_files", "must be at least 1; got %d", s.DeleteGuard.MaxFiles)
		}
		if s.DeleteGuard.MaxPercent <= 0 || s.DeleteGuard.MaxPercent > 100 {
			add(key+".delete_guard.max_percent", "must be above 0 and at most 100; got %g", s.DeleteGuard.MaxPercent)
		}
		if s.RemoteInterval < time.Second {
			add(key+".remote_interval", "must be at least 1s; got %s", s.RemoteInterval)
		}
		if s.Uploaders < 1 || s.Uploaders > 64 {
			add(key+".uploaders", "must be 1-64; got %d", s.Uploaders)
		}
		if s.BandwidthLimit != 0 && s.BandwidthLimit < 64*1024 {
			add(key+".bandwidth_limit", "must be 0 (unlimited) or at least 64KiB per second; got %d", s.BandwidthLimit)
		}
		for i, pat := range s.Exclude {
			if _, err := path.Match(pat, ""); err != nil || pat == "" {
				add(fmt.Sprintf("%s.exclude[%d]", key, i), "bad pattern %q", pat)
			}
		}
		validateTarget(key+".target", &s.Target, add)
		if s.StaleAfter < s.Settle {
			add(key+".stale_after", "must be at least the settle window (%s); got %s", s.Settle, s.StaleAfter)
		}
		s.Snapshots.validate(key+".snapshots", s, add)
		s.Verify.validate(key+".verify", s, add)
		s.Tripwire.validate(key+".tripwire", add)
		s.Readiness.validate(key+".readiness", c.Shares, add)
	}
	return errs
}

// addFunc records one validation failure of key.
type addFunc = func(key, format string, a ...any)

func validateTarget(key string, t *Target, add addFunc) {
	if t.ResponseTimeout < 0 || (t.ResponseTimeout > 0 && t.ResponseTimeout < time.Second) {
		add(key+".response_timeout", "must be 0 (the default, 2m) or at least 1s; got %s", t.ResponseTimeout)
	}
	t.validateEndpoints(key, add)
	if t.Bucket == "" {
		add(key+".bucket", "required")
	} else if !bucketRE.MatchString(t.Bucket) || strings.Contains(t.Bucket, "..") {
		add(key+".bucket", "not a valid S3 bucket name: %q", t.Bucket)
	}
	if t.Prefix != "" {
		switch {
		case strings.HasPrefix(t.Prefix, "/"):
			add(key+".prefix", "must not start with '/': %q", t.Prefix)
		case !strings.HasSuffix(t.Prefix, "/"):
			add(key+".prefix", "must end with '/': %q", t.Prefix)
		case hasControl(t.Prefix):
			add(key+".prefix", "contains control characters")
		default:
			for _, seg := range strings.Split(strings.TrimSuffix(t.Prefix, "/"), "/") {
				if seg == "" || seg == "." || seg == ".." {
					add(key+".prefix", "has an empty, '.' or '..' segment: %q", t.Prefix)
					break
				}
			}
		}
	}
	checkCredentials(add, key, t.AccessKeyID, string(t.SecretAccessKey), t.CredentialsFile, t.Profile, "credentials_file")
}

// checkCredentials checks the credentials of a target, or of one of its
// endpoints, at key: inline keys in pairs, or a credentials file (an
// absolute path) with an optional profile, not both. file names the
// credentials file in the profile's message.
func checkCredentials(add func(key, format string, a ...any), key, id, secret, credsFile, profile, file string) {
	if (id == "") != (secret == "") {
		add(key, "access_key_id and secret_access_key go together")
	}
	if id != "" && credsFile != "" {
		add(key, "set inline keys or credentials_file, not both")
	}
	if credsFile != "" && !filepath.IsAbs(credsFile) {
		add(key+".credentials_file", "must be an absolute path")
	}
	if profile != "" && credsFile == "" {
		add(key+".profile", "only applies with %s", file)
	}
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	if p == "" || dir == "" {
		return false
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func netbiosOK(s string) bool {
	if len(s) == 0 || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
