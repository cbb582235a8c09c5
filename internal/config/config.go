package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"genesissync/internal/layout"
)

// Config is the whole appliance configuration, as loaded and validated by
// Load. A Config is read-only after Load returns: any goroutine may read it.
type Config struct {
	// Appliance is this appliance's identity on shared prefixes.
	Appliance Appliance `mapstructure:"appliance"`
	// StateDir holds the index and the daemon's runtime state.
	StateDir string `mapstructure:"state_dir"`
	Log      Log    `mapstructure:"log"`
	Status   Status `mapstructure:"status"`
	Events   Events `mapstructure:"events"`
	Samba    Samba  `mapstructure:"samba"`
	// Alerts are where problems are sent (see alerts.go).
	Alerts Alerts `mapstructure:"alerts"`
	// Playout slows transfers while SMB clients play out.
	Playout Playout `mapstructure:"playout"`
	// Users are the SMB accounts, by user name.
	Users map[string]User `mapstructure:"users"`
	// Shares are the synced shares, by share name.
	Shares map[string]*Share `mapstructure:"shares"`
}

// Log configures the daemon's zerolog output.
type Log struct {
	// Level is one of trace, debug, info, warn, error.
	Level string `mapstructure:"level"`
	// Format is json (one event per line, the default) or console.
	Format string `mapstructure:"format"`
}

// Events configures the endpoint that receives bucket event notifications
// (MinIO's webhook target), so that objects added in the bucket reach the
// share at once rather than at the next listing.
type Events struct {
	// Listen is the endpoint's HTTP listen address; empty turns it off.
	Listen string `mapstructure:"listen"`
	// Token is what the sender must present as "Authorization: Bearer
	// <token>" (MinIO's auth_token). Required when Listen is set.
	Token Secret `mapstructure:"token"`
}

// MinEventsToken is the shortest events.token accepted.
const MinEventsToken = 16

// DefaultPath is where the installed appliance keeps its config (the
// .deb's conffile); every command's --config defaults to it.
const DefaultPath = "/etc/genesissync/genesissync.yaml"

// Samba modes.
const (
	// SambaStandalone runs and supervises a private smbd (demo, tests).
	SambaStandalone = "standalone"
	// SambaAppliance writes an include file and reloads the system smbd.
	SambaAppliance = "appliance"
	// SambaOff manages no Samba at all.
	SambaOff = "off"
)

// Samba configures how shares are exported over SMB.
type Samba struct {
	// Mode is standalone, appliance or off.
	Mode string `mapstructure:"mode"`
	// Listen is the address smbd binds in standalone mode.
	Listen string `mapstructure:"listen"`
	// Port is smbd's TCP port in standalone mode.
	Port int `mapstructure:"port"`
	// RunDir holds smbd's config, pid, lock, state and private
	// directories in standalone mode. Defaults to <state_dir>/samba.
	RunDir string `mapstructure:"run_dir"`
	// IncludeFile is where appliance mode writes the share definitions;
	// the system smb.conf includes it.
	IncludeFile string `mapstructure:"include_file"`
	// ServiceUser is the Unix account that owns every file on the shares
	// (Samba's "force user"); SMB users authenticate as themselves but
	// write as this account. Created when missing.
	ServiceUser string `mapstructure:"service_user"`
	// Workgroup and NetbiosName are the server's Windows names.
	Workgroup string `mapstructure:"workgroup"`
	// NetbiosName is the server's NetBIOS name, the one Windows shows.
	NetbiosName string `mapstructure:"netbios_name"`
}

// User is one SMB account. Exactly one of Password and PasswordFile is set.
type User struct {
	// Password is the user's SMB password, inline.
	Password Secret `mapstructure:"password"`
	// PasswordFile is a file holding the password (one line; a trailing
	// newline is ignored), instead of Password.
	PasswordFile string `mapstructure:"password_file"`
}

// Access levels of a user on a share.
const (
	AccessReadWrite = "rw"
	AccessReadOnly  = "ro"
)

// Share is one synced share: a local directory exported over SMB and
// reconciled with a bucket target.
type Share struct {
	// Name is the share's key in the config; it is the SMB share name.
	Name string `mapstructure:"-"`
	// Path is the local directory (a ZFS dataset's mountpoint or a
	// plain directory) that is the source of truth.
	Path string `mapstructure:"path"`
	// Dataset is the ZFS dataset mounted at Path, if the share is on ZFS:
	// nothing is scanned, written or deleted unless it is mounted there.
	Dataset string `mapstructure:"dataset"`
	// Comment is the share's description that SMB clients see.
	Comment string `mapstructure:"comment"`
	// Access maps SMB user names to rw or ro.
	Access map[string]string `mapstructure:"access"`
	Target Target            `mapstructure:"target"`
	// Settle is how long a file must see no change before it is read.
	Settle time.Duration `mapstructure:"settle"`
	// ScanInterval is the period of the full scan that catches anything
	// the watcher missed.
	ScanInterval time.Duration `mapstructure:"scan_interval"`
	// Exclude are extra glob patterns (matched against the base name, or
	// against the share-relative path when they contain a slash) that are
	// never synced. DefaultExcludes are always applied.
	Exclude []string `mapstructure:"exclude"`
	// Uploaders is the number of files uploaded at once.
	Uploaders int `mapstructure:"uploaders"`
	// BandwidthLimit caps upload bytes per second; 0 is unlimited.
	BandwidthLimit ByteSize `mapstructure:"bandwidth_limit"`
	// Delete is the delete policy: mirror, keep or upload-only.
	Delete string `mapstructure:"delete"`
	// TrashRetention is how long deleted files and objects are kept in
	// the trash (the share's .genesissync-trash folder, the bucket's
	// .genesissync-trash/ prefix) before they are removed for good.
	TrashRetention time.Duration `mapstructure:"trash_retention"`
	// DeleteGuard bounds the deletes of one pass.
	DeleteGuard DeleteGuard `mapstructure:"delete_guard"`
	// RemoteInterval is the period of the bucket listing that finds
	// objects added, changed or deleted in the bucket.
	RemoteInterval time.Duration `mapstructure:"remote_interval"`
	// StaleAfter is the share's recovery point target: a change still
	// unsynced after this long makes the share stale (and alerts).
	StaleAfter time.Duration `mapstructure:"stale_after"`
	// Snapshots is the ZFS snapshot policy (see snapshots.go).
	Snapshots SnapshotPolicy `mapstructure:"snapshots"`
	// Verify is the scheduled integrity check (see verify.go).
	Verify VerifyPolicy `mapstructure:"verify"`
	// Adopt is how objects already in the bucket are taken over (see
	// adopt.go).
	Adopt AdoptPolicy `mapstructure:"adopt"`
	// Readiness is the on-air readiness check of the playlists on the
	// share (see readiness.go).
	Readiness Readiness `mapstructure:"readiness"`
	// Tripwire is the ransomware tripwire (see tripwire.go).
	Tripwire TripwirePolicy `mapstructure:"tripwire"`
}

// ListingGrace is how long the share may go without a completed bucket
// listing before its bucket direction counts as broken: three remote
// intervals, at least MinListingGrace, so a flaky line's failed listing
// or two raise nothing.
func (s *Share) ListingGrace() time.Duration {
	return max(3*s.RemoteInterval, MinListingGrace)
}

// MinListingGrace is the shortest listing grace (Share.ListingGrace).
const MinListingGrace = 5 * time.Minute

// DeleteGuard is the mass-delete guard: a pass with more deletes than
// MaxFiles, or than MaxPercent of the share's files, pauses deletes for the
// share until a person approves the batch.
type DeleteGuard struct {
	// MaxFiles is the most deletes one pass may make without approval.
	MaxFiles int `mapstructure:"max_files"`
	// MaxPercent is the most deletes one pass may make without approval,
	// as a percentage of the share's files.
	MaxPercent float64 `mapstructure:"max_percent"`
}

// Delete policies.
const (
	DeleteMirror     = "mirror"
	DeleteKeep       = "keep"
	DeleteUploadOnly = "upload-only"
)

// Target is the S3 location a share is reconciled with.
type Target struct {
	// Endpoint is the S3 endpoint URL; empty means AWS S3. It is the
	// one-endpoint form of Endpoints: set one or the other, not both.
	Endpoint string `mapstructure:"endpoint"`
	// Endpoints are the target's endpoints when it has several, nearest
	// first: replicas of one bucket (MinIO's bucket or site replication,
	// or two regions). Requests go to the first healthy one, writes to the
	// first healthy one with write true, and fail over down the list. An
	// entry is a URL, or a map whose keys left out take the target's
	// value. An environment override replaces the whole list with
	// comma-separated URLs.
	Endpoints []Endpoint `mapstructure:"endpoints"`
	// ProbeInterval is how often each endpoint of several is probed, so a
	// failed one is skipped, and a recovered one used again, without
	// waiting for a request to find out.
	ProbeInterval time.Duration `mapstructure:"probe_interval"`
	// EndpointTimeout bounds the wait for one endpoint of several (the
	// connection, and the response of a request without a large body)
	// before the request fails over to the next. A target with one
	// endpoint waits ResponseTimeout instead.
	EndpointTimeout time.Duration `mapstructure:"endpoint_timeout"`
	// Region is the bucket's region (MinIO accepts any).
	Region string `mapstructure:"region"`
	// Bucket is the bucket's name.
	Bucket string `mapstructure:"bucket"`
	// Prefix is prepended to every key; it is empty or ends in "/".
	Prefix string `mapstructure:"prefix"`
	// PathStyle addresses the bucket in the path (MinIO) rather than in
	// the host name.
	PathStyle bool `mapstructure:"path_style"`
	// Credentials: inline keys, or an AWS shared credentials file and
	// profile, or neither (the SDK's environment chain: AWS_ACCESS_KEY_ID).
	AccessKeyID string `mapstructure:"access_key_id"`
	// SecretAccessKey goes with AccessKeyID.
	SecretAccessKey Secret `mapstructure:"secret_access_key"`
	// CredentialsFile is an AWS shared credentials file, instead of the
	// inline keys (the service cannot read /root/.aws: keep it under
	// /etc/genesissync).
	CredentialsFile string `mapstructure:"credentials_file"`
	// Profile is the profile to read from CredentialsFile.
	Profile string `mapstructure:"profile"`
	// ResponseTimeout is how long the endpoint may take to start answering
	// a sent request before it counts as hung and is retried; 0 means two
	// minutes. On a slow uplink it must exceed the time to drain about
	// 4 MiB of socket buffers.
	ResponseTimeout time.Duration `mapstructure:"response_timeout"`
	// SignPayload signs each uploaded body's SHA-256 (SigV4 signed
	// payload) over a plain http:// endpoint. Off, bodies go unsigned and
	// the upload spares one SHA-256 pass of every byte; the server still
	// checks each body against a signed checksum header, and the appliance
	// checks what it streams against its own hash pass. Turn it on when
	// http:// crosses a network where traffic could be altered in flight;
	// https:// never needs it.
	SignPayload bool `mapstructure:"sign_payload"`
}

// DefaultExcludes are never synced: Windows and Office temporary and
// metadata files, and the appliance's reserved names.
var DefaultExcludes = []string{
	"~$*",
	"*.tmp",
	"~*.tmp",
	"Thumbs.db",
	"desktop.ini",
	".DS_Store",
	"._*",
	layout.ReservedPattern,
}

// ExcludePatterns returns every pattern the share excludes from sync:
// DefaultExcludes, then the share's Exclude. The caller owns the slice.
func (s Share) ExcludePatterns() []string { return slices.Concat(DefaultExcludes, s.Exclude) }

// Secret is a string that never prints: fmt, logs and JSON see a mask.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `config.Secret("********")` }

// MarshalText masks the secret for encoders (JSON, YAML, zerolog).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret itself, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// ByteSize is a count of bytes that parses "10MiB", "512k", "1G" or a
// plain number.
type ByteSize int64

// UnmarshalText parses a byte size with an optional SI or IEC suffix.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if s == "" {
		*b = 0
		return nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			mult = u.mult
			num = strings.TrimSpace(s[:len(s)-len(u.suffix)])
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(num, "%d", &n); err != nil || fmt.Sprint(n) != num {
		return fmt.Errorf("invalid byte size %q (want e.g. 1048576, 512KiB, 10MiB)", s)
	}
	if n < 0 {
		return fmt.Errorf("invalid byte size %q: negative", s)
	}
	*b = ByteSize(n * mult)
	return nil
}

// IndexPath returns the index database's path in the state directory.
func (c *Config) IndexPath() string { return filepath.Join(c.StateDir, layout.IndexFile) }

// ShareNames returns the share names in sorted order.
func (c *Config) ShareNames() []string {
	names := make([]string, 0, len(c.Shares))
	for n := range c.Shares {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// UserNames returns the SMB user names in sorted order.
func (c *Config) UserNames() []string {
	names := make([]string, 0, len(c.Users))
	for n := range c.Users {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ResolvePassword returns the user's password, reading PasswordFile when
// that is how it is given (trailing newline stripped).
func (u User) ResolvePassword() (Secret, error) {
	if u.PasswordFile == "" {
		return u.Password, nil
	}
	data, err := os.ReadFile(u.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	p := strings.TrimRight(string(data), "\r\n")
	if p == "" {
		return "", fmt.Errorf("password file %s is empty", u.PasswordFile)
	}
	return Secret(p), nil
}
