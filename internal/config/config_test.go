package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/layout"
)

const minimal = `
state_dir: /var/lib/gs
users:
  studio: {password: pw}
shares:
  studio:
    path: /srv/studio
    access: {studio: rw}
    target: {bucket: station, endpoint: "http://127.0.0.1:9000", access_key_id: k, secret_access_key: s}
`

func TestExampleConfigIsValid(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "configs", "genesissync.example.yaml"))
	require.NoError(t, err)
	// Parse with an empty environment: the test must not depend on the
	// caller's GENESISSYNC_* variables.
	cfg, err := Parse(data, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"studio"}, cfg.ShareNames())
	s := cfg.Shares["studio"]
	require.Equal(t, "studio", s.Name)
	require.Equal(t, 2*time.Second, s.Settle)
	require.Equal(t, "station", s.Target.Bucket)
	require.Equal(t, 4455, cfg.Samba.Port)
}

// TestExampleEndpointsAreValid: the example's commented endpoints, put in
// place of its endpoint, are a valid config too.
func TestExampleEndpointsAreValid(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "configs", "genesissync.example.yaml"))
	require.NoError(t, err)
	const endpoint, comment = "      endpoint: ", "      # "
	lines := strings.Split(string(data), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, endpoint) })
	require.GreaterOrEqual(t, i, 0, "the example's target has an endpoint")
	lines = slices.Delete(lines, i, i+1)
	for ; strings.HasPrefix(lines[i], comment); i++ {
		lines[i] = "      " + strings.TrimPrefix(lines[i], comment)
	}
	cfg, err := Parse([]byte(strings.Join(lines, "\n")), nil)
	require.NoError(t, err)
	tg := cfg.Shares["studio"].Target
	require.Len(t, tg.Endpoints, 2)
	require.True(t, tg.Endpoints[0].Writable())
	require.False(t, tg.Endpoints[1].Writable())
	require.Equal(t, "genesisdr-secret", tg.Endpoints[1].SecretAccessKey.Reveal())
	require.Equal(t, time.Minute, tg.ProbeInterval)
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), nil)
	require.NoError(t, err)
	s := cfg.Shares["studio"]
	require.Equal(t, DefaultSettle, s.Settle)
	require.Equal(t, DefaultScanInterval, s.ScanInterval)
	require.Equal(t, DefaultUploaders, s.Uploaders)
	require.Equal(t, DeleteMirror, s.Delete)
	require.Equal(t, DefaultRemoteInterval, s.RemoteInterval)
	require.Equal(t, "us-east-1", s.Target.Region)
	require.Equal(t, SambaStandalone, cfg.Samba.Mode)
	require.Equal(t, "/var/lib/gs/samba", cfg.Samba.RunDir)
	require.Equal(t, "json", cfg.Log.Format)
	require.Empty(t, cfg.Events.Listen, "the bucket events endpoint is off unless configured")
}

func TestEvents(t *testing.T) {
	y := minimal + "events: {listen: \"0.0.0.0:9100\", token: from-file-0123456789}\n"
	cfg, err := Parse([]byte(y), nil)
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9100", cfg.Events.Listen)
	require.Equal(t, "from-file-0123456789", cfg.Events.Token.Reveal())

	// The token can come from the environment alone, as secrets should.
	cfg, err = Parse([]byte(minimal+"events: {listen: \"0.0.0.0:9100\"}\n"), []string{"GENESISSYNC_EVENTS_TOKEN=from-env-0123456789"})
	require.NoError(t, err)
	require.Equal(t, "from-env-0123456789", cfg.Events.Token.Reveal())

	// A token without a listen address is harmless: the endpoint is off.
	cfg, err = Parse([]byte(minimal+"events: {token: x}\n"), nil)
	require.NoError(t, err)
	require.Empty(t, cfg.Events.Listen)
}

func TestEnvOverrides(t *testing.T) {
	cfg, err := Parse([]byte(minimal), []string{
		"GENESISSYNC_STATE_DIR=/tmp/demo/state",
		"GENESISSYNC_SHARES_STUDIO_PATH=/tmp/demo/studio",
		"GENESISSYNC_SHARES_STUDIO_TARGET_SECRET_ACCESS_KEY=from-env",
		"GENESISSYNC_SHARES_STUDIO_SETTLE=5s",
		"GENESISSYNC_SHARES_STUDIO_BANDWIDTH_LIMIT=10MiB",
		"GENESISSYNC_USERS_STUDIO_PASSWORD=envpw",
		"OTHER=ignored",
	})
	require.NoError(t, err)
	require.Equal(t, "/tmp/demo/state", cfg.StateDir)
	s := cfg.Shares["studio"]
	require.Equal(t, "/tmp/demo/studio", s.Path)
	require.Equal(t, "from-env", s.Target.SecretAccessKey.Reveal())
	require.Equal(t, 5*time.Second, s.Settle)
	require.Equal(t, ByteSize(10<<20), s.BandwidthLimit)
	require.Equal(t, "envpw", cfg.Users["studio"].Password.Reveal())
}

func TestUnknownEnvOverrideIsAnError(t *testing.T) {
	_, err := Parse([]byte(minimal), []string{"GENESISSYNC_SHARES_STUDOI_PATH=/x"})
	require.ErrorContains(t, err, "GENESISSYNC_SHARES_STUDOI_PATH")
}

// TestErrorsNameTheKey checks that each mistake is reported with its key
// path, and that all mistakes are reported at once.
func TestErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", minimal + "bogus: 1\n", "bogus: unknown key"},
		{"unknown share key", strings.Replace(minimal, "path: /srv/studio", "path: /srv/studio\n    setle: 2s", 1), "shares.studio.setle: unknown key"},
		{"relative path", strings.Replace(minimal, "/srv/studio", "srv/studio", 1), "shares.studio.path: must be an absolute path"},
		{"unclean path", strings.Replace(minimal, "/srv/studio", "/srv/../srv/studio", 1), "shares.studio.path: must be a clean path"},
		{"no bucket", strings.Replace(minimal, "bucket: station, ", "", 1), "shares.studio.target.bucket: required"},
		{"bad bucket", strings.Replace(minimal, "bucket: station", "bucket: Station_1", 1), "shares.studio.target.bucket: not a valid S3 bucket name"},
		{"bad endpoint", strings.Replace(minimal, "http://127.0.0.1:9000", "ftp://x", 1), "shares.studio.target.endpoint: must be an http"},
		{"prefix slash", strings.Replace(minimal, "bucket: station", "bucket: station, prefix: /a/", 1), "shares.studio.target.prefix: must not start with '/'"},
		{"prefix dotdot", strings.Replace(minimal, "bucket: station", "bucket: station, prefix: a/../", 1), "'..' segment"},
		{"bad duration", strings.Replace(minimal, "path: /srv/studio", "path: /srv/studio\n    settle: soon", 1), "shares.studio.settle"},
		{"settle too short", strings.Replace(minimal, "path: /srv/studio", "path: /srv/studio\n    settle: 1ms", 1), "shares.studio.settle: must be between"},
		{"bad size", strings.Replace(minimal, "path: /srv/studio", "path: /srv/studio\n    bandwidth_limit: lots", 1), "shares.studio.bandwidth_limit"},
		{"playout rate too low", minimal + "playout: {rate: 1KiB}\n", "playout.rate: must be at least 64KiB"},
		{"playout quiet too long", minimal + "playout: {quiet_after: 2h}\n", "playout.quiet_after: must be between 1s and 1h"},
		{"unknown user", strings.Replace(minimal, "{studio: rw}", "{studio: rw, ghost: ro}", 1), "shares.studio.access.ghost: no such user"},
		{"bad access", strings.Replace(minimal, "{studio: rw}", "{studio: write}", 1), "shares.studio.access.studio: must be rw or ro"},
		{"share name injection", strings.Replace(minimal, "  studio:\n    path", "  \"x]\\n[global\":\n    path", 1), "share name must match"},
		{"reserved share", strings.Replace(minimal, "  studio:\n    path", "  global:\n    path", 1), "shares.global: share name must match"},
		{"no password", strings.Replace(minimal, "{password: pw}", "{password: \"\"}", 1), "users.studio: needs password"},
		{"half keys", strings.Replace(minimal, ", secret_access_key: s", "", 1), "access_key_id and secret_access_key go together"},
		{"no shares", "state_dir: /x\n", "shares: at least one share is required"},
		{"malformed yaml", "shares: [\n", "parse YAML"},
		{"bad mode", minimal + "samba: {mode: cluster}\n", "samba.mode: must be standalone"},
		{"bad port", minimal + "samba: {port: 70000}\n", "samba.port: must be 1-65535"},
		{"run dir too long for smbd's sockets", minimal + "samba: {run_dir: /tmp/TestRacesBetweenTwoAppliancesedit_vs_delete_the_edit_survives3933289952/002/state/samba}\n",
			"samba.run_dir: is 92 bytes long (from state_dir unless set): smbd's sockets under it (lock/msg.sock/PID) would pass the 108-byte limit of a Unix socket path and smbd would not start; use at most 85"},
		{"bad delete policy", strings.Replace(minimal, "path: /srv/studio", "path: /srv/studio\n    delete: everything", 1), "shares.studio.delete: must be mirror, keep or upload-only"},
		{"state inside share", strings.Replace(minimal, "/var/lib/gs", "/srv/studio/.state", 1), "overlaps state_dir"},
		{"events without token", minimal + "events: {listen: \"127.0.0.1:9100\"}\n", "events.token: required when events.listen is set"},
		{"events short token", minimal + "events: {listen: \"127.0.0.1:9100\", token: short}\n", "events.token: must be at least 16 characters; got 5"},
		{"events token with space", minimal + "events: {listen: \"127.0.0.1:9100\", token: \"Bearer 0123456789abcdef\"}\n", "events.token: must not contain spaces"},
		{"events bad listen", minimal + "events: {listen: \"9100\", token: 0123456789abcdef}\n", "events.listen: must be host:port"},
		{"events on status port", minimal + "status: {listen: \"127.0.0.1:8080\"}\nevents: {listen: \"127.0.0.1:8080\", token: 0123456789abcdef}\n", "events.listen: must differ from status.listen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), nil)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestKeyPath: mapstructure's names in the config's notation, map entries
// as keys and list entries as indexes.
func TestKeyPath(t *testing.T) {
	for in, want := range map[string]string{
		"bogus":                                  "bogus",
		"shares[studio].settle":                  "shares.studio.settle",
		"shares[1].path":                         "shares.1.path",
		"shares[studio].exclude[2]":              "shares.studio.exclude[2]",
		"alerts.webhooks[0].bogus":               "alerts.webhooks[0].bogus",
		"status.admins[ops].bogus":               "status.admins.ops.bogus",
		`shares[studio].readiness.path_map[z:\]`: `shares.studio.readiness.path_map.z:\`,
		"shares[studio].bogus[3].x":              "shares.studio.bogus.3.x",
		"Shares[Studio].Settle":                  "shares.studio.settle",
	} {
		require.Equal(t, want, keyPath(in), in)
	}
}

func TestUnknownKeyInAListEntry(t *testing.T) {
	_, err := Parse([]byte(minimal+`alerts: {webhooks: [{url: "https://a.example", bogus: 1}]}`+"\n"), nil)
	require.ErrorContains(t, err, "alerts.webhooks[0].bogus: unknown key")
}

func TestAllErrorsAtOnce(t *testing.T) {
	y := strings.NewReplacer("bucket: station", "bucket: X", "/srv/studio", "rel").Replace(minimal)
	_, err := Parse([]byte(y), nil)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.GreaterOrEqual(t, len(errs), 2, err.Error())
}

func TestOverlappingShares(t *testing.T) {
	y := minimal + `
  news:
    path: /srv/studio/news
    target: {bucket: station}
`
	_, err := Parse([]byte(y), nil)
	require.ErrorContains(t, err, "overlaps share")
}

func TestSecretsNeverPrint(t *testing.T) {
	// A password that no field name contains ("pw" is in "Tripwire").
	y := strings.Replace(minimal, "{password: pw}", "{password: pw-6e1f0c}", 1)
	// A second share whose target has several endpoints, one with its
	// own keys.
	y += `  news:
    path: /srv/news
    target:
      bucket: news
      endpoints:
        - http://a:9000
        - {url: "http://b:9000", access_key_id: kb, secret_access_key: ep-secret-3b9d71}
`
	cfg, err := Parse([]byte(y+"events: {listen: \"127.0.0.1:9100\", token: events-token-0123456789}\n"), nil)
	require.NoError(t, err)
	ep := cfg.Shares["news"].Target.Endpoints[1]
	require.Equal(t, "ep-secret-3b9d71", ep.SecretAccessKey.Reveal())
	var logged bytes.Buffer
	log := zerolog.New(&logged)
	log.Info().Interface("config", cfg).Interface("target", cfg.Shares["news"].Target).Interface("endpoint", ep).Msg("loaded")
	for _, out := range []string{
		fmt.Sprintf("%v %+v %#v %s", cfg, *cfg, *cfg, cfg.Users["studio"].Password),
		// The shares are pointers, which %v of the config does not follow.
		fmt.Sprintf("%v %+v %#v", *cfg.Shares["studio"], *cfg.Shares["news"], *cfg.Shares["news"]),
		fmt.Sprintf("%v %+v %#v %s", ep, ep, ep, ep.SecretAccessKey),
		mustJSON(t, cfg),
		logged.String(),
	} {
		require.NotContains(t, out, ": s,")
		require.NotContains(t, out, `"s"`)
		require.NotContains(t, out, "pw-6e1f0c")
		require.NotContains(t, out, "events-token")
		require.NotContains(t, out, "ep-secret")
	}
	require.Contains(t, logged.String(), `"SecretAccessKey":"********"`, "the log shows the mask")
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"0": 0, "1024": 1024, "512KiB": 512 << 10, "10MiB": 10 << 20, "1G": 1 << 30, "5MB": 5e6, "2k": 2048} {
		var b ByteSize
		require.NoError(t, b.UnmarshalText([]byte(in)), in)
		require.Equal(t, want, b, in)
	}
	for _, in := range []string{"-1", "ten", "1.5M", "1XB"} {
		var b ByteSize
		require.Error(t, b.UnmarshalText([]byte(in)), in)
	}
}

func TestPasswordFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(f, []byte("s3cret\n"), 0o600))
	p, err := User{PasswordFile: f}.ResolvePassword()
	require.NoError(t, err)
	require.Equal(t, "s3cret", p.Reveal())
	_, err = User{PasswordFile: f + ".missing"}.ResolvePassword()
	require.Error(t, err)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("shares: {a: {path: /x, target: {bucket: bb1}}}"))
	f.Add([]byte("shares: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, nil)
		if err != nil {
			return
		}
		// Whatever is accepted must satisfy the invariants that the rest
		// of the appliance relies on.
		for name, s := range cfg.Shares {
			if !nameRE.MatchString(name) || !filepath.IsAbs(s.Path) || s.Target.Bucket == "" {
				t.Fatalf("accepted invalid share %q: %+v", name, s)
			}
		}
	})
}

// TestShareExcludePatternsAndIndexPath: a share excludes the default
// patterns (the reserved names among them) and then its own, without
// writing into DefaultExcludes; the index lives in the state directory.
func TestShareExcludePatternsAndIndexPath(t *testing.T) {
	defaults := slices.Clone(DefaultExcludes)
	s := Share{Exclude: []string{"*.bak", "archive/old"}}
	got := s.ExcludePatterns()
	require.Equal(t, append(slices.Clone(defaults), "*.bak", "archive/old"), got)
	require.Contains(t, got, layout.ReservedPattern)
	got[0] = "changed"
	require.Equal(t, defaults, DefaultExcludes)
	require.Equal(t, defaults, Share{}.ExcludePatterns())

	c := Config{StateDir: "/var/lib/genesissync"}
	require.Equal(t, "/var/lib/genesissync/"+layout.IndexFile, c.IndexPath())
}
