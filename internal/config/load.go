package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of environment overrides: the key path in upper
// case with dots as underscores, e.g. GENESISSYNC_STATUS_LISTEN or
// GENESISSYNC_SHARES_STUDIO_TARGET_SECRET_ACCESS_KEY.
const EnvPrefix = "GENESISSYNC"

// Defaults applied to every config before validation.
const (
	DefaultStateDir         = "/var/lib/genesissync"
	DefaultSettle           = 2 * time.Second
	DefaultScanInterval     = 10 * time.Minute
	DefaultRemoteInterval   = 30 * time.Second
	DefaultMaxDeleteFiles   = 50
	DefaultTrashRetention   = 30 * 24 * time.Hour
	DefaultMaxDeletePercent = 10.0
	DefaultUploaders        = 4
	DefaultSambaListen      = "127.0.0.1"
	DefaultSambaPort        = 445
	DefaultServiceUser      = "genesissync"
	DefaultWorkgroup        = "WORKGROUP"
	DefaultNetbiosName      = "GENESISSYNC"
	// SambaRunDirName is the standalone smbd's run directory under the
	// state directory.
	SambaRunDirName = "samba"
	// maxSambaRunDir is the longest samba.run_dir with which smbd's
	// messaging sockets, RUN_DIR/lock/msg.sock/PID (a PID of up to 7
	// digits), fit a Unix socket path (107 bytes and a NUL).
	maxSambaRunDir    = 107 - len("/lock/msg.sock/") - 7
	DefaultStaleAfter = 15 * time.Minute
)

// Error is a validation failure of one key. Load returns every failure at
// once, joined.
type Error struct {
	Key string // the key path, e.g. shares.studio.target.bucket
	Msg string
}

func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// Errors is the list of problems Load found; it prints one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads the YAML file at path, applies GENESISSYNC_* environment
// overrides and defaults, and validates the result. Every problem is
// reported in one error (type Errors, or a parse error naming the file).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(data, os.Environ())
	if err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return cfg, nil
}

// Parse is Load on bytes and an explicit environment (KEY=VALUE strings),
// for tests and fuzzing.
func Parse(data []byte, environ []string) (*Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if err := applyEnv(v, environ); err != nil {
		return nil, err
	}
	var cfg Config
	var unused []string
	dec := &mapstructure.DecoderConfig{
		Result:           &cfg,
		WeaklyTypedInput: true,
		Metadata:         &mapstructure.Metadata{},
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			pathMapHook,
			endpointsHook,
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.TextUnmarshallerHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		),
	}
	d, err := mapstructure.NewDecoder(dec)
	if err != nil {
		return nil, err
	}
	if err := d.Decode(v.AllSettings()); err != nil {
		return nil, decodeErrors(err)
	}
	unused = dec.Metadata.Unused
	var errs Errors
	sort.Strings(unused)
	for _, k := range unused {
		errs = append(errs, &Error{Key: keyPath(k), Msg: "unknown key"})
	}
	cfg.applyDefaults()
	errs = append(errs, cfg.validate()...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &cfg, nil
}

// applyEnv sets every GENESISSYNC_* variable that names a known key path.
// Known paths are the fixed ones of the schema plus, for each user and
// share named in the file, that entry's fields. An override naming no
// known key is an error, so a typo is not silently ignored.
func applyEnv(v *viper.Viper, environ []string) error {
	known := map[string]string{} // ENV name -> key path
	addPaths := func(prefix string, t reflect.Type) {
		for _, p := range leafPaths(t) {
			key := p
			if prefix != "" {
				key = prefix + "." + p
			}
			known[envName(key)] = key
		}
	}
	addPaths("", reflect.TypeOf(Config{}))
	for name := range v.GetStringMap("users") {
		addPaths("users."+name, reflect.TypeOf(User{}))
	}
	for name := range v.GetStringMap("shares") {
		addPaths("shares."+name, reflect.TypeOf(Share{}))
	}
	var errs Errors
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		key, ok := known[name]
		if !ok {
			errs = append(errs, &Error{Key: name, Msg: "environment override names no known key (shares and users must be defined in the file first)"})
			continue
		}
		v.Set(key, value)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// leafPaths lists the mapstructure key paths of a struct's scalar fields.
func leafPaths(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Ptr {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}):
			for _, p := range leafPaths(ft) {
				out = append(out, tag+"."+p)
			}
		case ft.Kind() == reflect.Map:
			// users, shares, access: keyed by names from the file.
		default:
			out = append(out, tag)
		}
	}
	return out
}

// decodeErrors turns mapstructure's joined errors into key-path errors.
func decodeErrors(err error) error {
	var errs Errors
	var collect func(error)
	collect = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				collect(x)
			}
			return
		}
		var fe *mapstructure.DecodeError
		if errors.As(e, &fe) {
			errs = append(errs, &Error{Key: keyPath(fe.Name()), Msg: fe.Unwrap().Error()})
			return
		}
		errs = append(errs, &Error{Key: "(config)", Msg: e.Error()})
	}
	collect(err)
	return errs
}

// ApplyDefaults fills every empty field with its default, as Parse and
// Load do before validating: for configurations built in code (tests).
// It is idempotent.
func (c *Config) ApplyDefaults() { c.applyDefaults() }

func (c *Config) applyDefaults() {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Samba.Mode == "" {
		c.Samba.Mode = SambaStandalone
	}
	if c.Samba.Listen == "" {
		c.Samba.Listen = DefaultSambaListen
	}
	if c.Samba.Port == 0 {
		c.Samba.Port = DefaultSambaPort
	}
	if c.Samba.RunDir == "" {
		c.Samba.RunDir = filepath.Join(c.StateDir, SambaRunDirName)
	}
	if c.Samba.IncludeFile == "" {
		c.Samba.IncludeFile = "/etc/samba/genesissync.conf"
	}
	if c.Samba.ServiceUser == "" {
		c.Samba.ServiceUser = DefaultServiceUser
	}
	if c.Samba.Workgroup == "" {
		c.Samba.Workgroup = DefaultWorkgroup
	}
	if c.Samba.NetbiosName == "" {
		c.Samba.NetbiosName = DefaultNetbiosName
	}
	for name, s := range c.Shares {
		if s == nil {
			s = &Share{}
			c.Shares[name] = s
		}
		s.Name = name
		if s.Settle == 0 {
			s.Settle = DefaultSettle
		}
		if s.ScanInterval == 0 {
			s.ScanInterval = DefaultScanInterval
		}
		if s.Uploaders == 0 {
			s.Uploaders = DefaultUploaders
		}
		if s.Delete == "" {
			s.Delete = DeleteMirror
		}
		if s.TrashRetention == 0 {
			s.TrashRetention = DefaultTrashRetention
		}
		if s.DeleteGuard.MaxFiles == 0 {
			s.DeleteGuard.MaxFiles = DefaultMaxDeleteFiles
		}
		if s.DeleteGuard.MaxPercent == 0 {
			s.DeleteGuard.MaxPercent = DefaultMaxDeletePercent
		}
		if s.RemoteInterval == 0 {
			s.RemoteInterval = DefaultRemoteInterval
		}
		if s.Target.Region == "" {
			s.Target.Region = "us-east-1"
		}
		s.Target.applyEndpointDefaults()
		if s.StaleAfter == 0 {
			s.StaleAfter = DefaultStaleAfter
		}
		s.Snapshots.applyDefaults(s)
		s.Verify.applyDefaults(s)
		s.Tripwire.applyDefaults()
		s.Readiness.applyDefaults(c.Samba.NetbiosName, c.ShareNames(), name)
	}
	c.Status.applyDefaults()
	c.Appliance.applyDefaults()
	c.Alerts.applyDefaults()
	c.Playout.applyDefaults()
}

// keyPath turns mapstructure's field names into the config's own
// notation: a map entry is a key ("shares[studio].settle" is
// "shares.studio.settle") and a list entry keeps its index
// ("alerts.webhooks[0].url"), as validation names them.
func keyPath(name string) string {
	var b strings.Builder
	t := reflect.TypeOf(Config{}) // the type at the path so far; nil once unknown
	for name != "" {
		var seg string
		indexed := name[0] == '['
		if indexed {
			end := strings.IndexByte(name, ']')
			if end < 0 {
				end = len(name)
			}
			seg, name = name[1:end], name[min(end+1, len(name)):]
		} else {
			name = strings.TrimPrefix(name, ".")
			end := strings.IndexAny(name, ".[")
			if end < 0 {
				end = len(name)
			}
			seg, name = name[:end], name[end:]
		}
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case indexed && t != nil && t.Kind() == reflect.Slice:
			b.WriteString("[" + seg + "]")
			t = t.Elem()
		case indexed && t != nil && t.Kind() == reflect.Map:
			b.WriteString("." + seg)
			t = t.Elem()
		default:
			if b.Len() > 0 {
				b.WriteString(".")
			}
			b.WriteString(seg)
			t = fieldType(t, seg)
			if indexed {
				t = nil // an index into something that is no list or map
			}
		}
	}
	return strings.ToLower(b.String())
}

// fieldType is the type of struct t's field whose mapstructure tag is
// tag, or nil.
func fieldType(t reflect.Type, tag string) reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Tag.Get("mapstructure") == tag {
			return f.Type
		}
	}
	return nil
}
