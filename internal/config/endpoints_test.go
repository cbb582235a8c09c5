package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// withEndpoints is minimal with its target replaced by target, a YAML
// flow map.
func withEndpoints(target string) string {
	const line = `target: {bucket: station, endpoint: "http://127.0.0.1:9000", access_key_id: k, secret_access_key: s}`
	if !strings.Contains(minimal, line) {
		panic("minimal's target changed")
	}
	return strings.Replace(minimal, line, "target: "+target, 1)
}

func TestEndpointsBothForms(t *testing.T) {
	y := `
state_dir: /var/lib/gs
users:
  studio: {password: pw}
shares:
  studio:
    path: /srv/studio
    access: {studio: rw}
    target:
      bucket: station
      region: eu-central-1
      access_key_id: k
      secret_access_key: s
      endpoints:
        - http://minio-a.lan:9000
        - url: https://minio-b.example.net
          region: eu-west-1
          path_style: false
          access_key_id: kb
          secret_access_key: sb
          write: false
        - url: https://minio-c.example.net
          credentials_file: /etc/genesissync/c.credentials
          profile: replica
          write: true
      probe_interval: 30s
      endpoint_timeout: 2s
`
	cfg, err := Parse([]byte(y), nil)
	require.NoError(t, err)
	tg := cfg.Shares["studio"].Target
	require.Empty(t, tg.Endpoint)
	require.Len(t, tg.Endpoints, 3)

	a := tg.Endpoints[0]
	require.Equal(t, Endpoint{URL: "http://minio-a.lan:9000"}, a, "a plain string is the URL, every other key the target's")
	require.True(t, a.Writable(), "write defaults to true")

	b := tg.Endpoints[1]
	require.Equal(t, "https://minio-b.example.net", b.URL)
	require.Equal(t, "eu-west-1", b.Region)
	require.NotNil(t, b.PathStyle)
	require.False(t, *b.PathStyle)
	require.Equal(t, "kb", b.AccessKeyID)
	require.Equal(t, "sb", b.SecretAccessKey.Reveal())
	require.False(t, b.Writable())

	c := tg.Endpoints[2]
	require.Equal(t, "/etc/genesissync/c.credentials", c.CredentialsFile)
	require.Equal(t, "replica", c.Profile)
	require.Nil(t, c.PathStyle, "path_style left out: the target's")
	require.True(t, c.Writable())

	require.Equal(t, 30*time.Second, tg.ProbeInterval)
	require.Equal(t, 2*time.Second, tg.EndpointTimeout)
}

func TestEndpointsFlowForm(t *testing.T) {
	y := withEndpoints(`{bucket: station, endpoints: ["http://a:9000", {url: "http://b:9000", write: false}]}`)
	cfg, err := Parse([]byte(y), nil)
	require.NoError(t, err)
	eps := cfg.Shares["studio"].Target.Endpoints
	require.Equal(t, []string{"http://a:9000", "http://b:9000"}, []string{eps[0].URL, eps[1].URL})
	require.Equal(t, []bool{true, false}, []bool{eps[0].Writable(), eps[1].Writable()})
}

func TestEndpointDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), nil)
	require.NoError(t, err)
	tg := cfg.Shares["studio"].Target
	require.Empty(t, tg.Endpoints, "one endpoint: the endpoint key")
	require.Equal(t, DefaultProbeInterval, tg.ProbeInterval)
	require.Equal(t, time.Minute, tg.ProbeInterval)
	require.Equal(t, DefaultEndpointTimeout, tg.EndpointTimeout)
	require.Equal(t, 5*time.Second, tg.EndpointTimeout)
}

func TestEndpointsFromEnvironment(t *testing.T) {
	cfg, err := Parse([]byte(withEndpoints(`{bucket: station}`)), []string{
		"GENESISSYNC_SHARES_STUDIO_TARGET_ENDPOINTS=http://a:9000, https://b.example.net",
		"GENESISSYNC_SHARES_STUDIO_TARGET_ENDPOINT_TIMEOUT=3s",
	})
	require.NoError(t, err)
	tg := cfg.Shares["studio"].Target
	require.Equal(t, []Endpoint{{URL: "http://a:9000"}, {URL: "https://b.example.net"}}, tg.Endpoints)
	require.Equal(t, 3*time.Second, tg.EndpointTimeout)
}

// TestEndpointErrorsNameTheKey: each mistake in a target's endpoints is
// reported on its own line, with the key path of the culprit.
func TestEndpointErrorsNameTheKey(t *testing.T) {
	const k = "shares.studio.target"
	tests := []struct{ name, target, key, msg string }{
		{"both forms", `{bucket: station, endpoint: "http://a:9000", endpoints: ["http://b:9000"]}`,
			k, "set either endpoint or endpoints, not both"},
		{"no url", `{bucket: station, endpoints: ["http://a:9000", {region: eu-1}]}`,
			k + ".endpoints[1].url", "required"},
		{"empty entry", `{bucket: station, endpoints: ["http://a:9000", ""]}`,
			k + ".endpoints[1].url", "required"},
		{"not http", `{bucket: station, endpoints: ["ftp://a:21"]}`,
			k + ".endpoints[0].url", "must be an http:// or https:// URL"},
		{"no scheme", `{bucket: station, endpoints: ["minio-a.lan:9000"]}`,
			k + ".endpoints[0].url", ""},
		{"no host", `{bucket: station, endpoints: ["http://a:9000", "https:///x"]}`,
			k + ".endpoints[1].url", "has no host"},
		{"path", `{bucket: station, endpoints: ["http://a:9000/station"]}`,
			k + ".endpoints[0].url", "must not have a path"},
		{"bad endpoint", `{bucket: station, endpoint: "ftp://x"}`,
			k + ".endpoint", "must be an http:// or https:// URL"},
		{"key without secret", `{bucket: station, endpoints: [{url: "http://a:9000", access_key_id: ka}]}`,
			k + ".endpoints[0]", "access_key_id and secret_access_key go together"},
		{"secret without key", `{bucket: station, endpoints: ["http://a:9000", {url: "http://b:9000", secret_access_key: sb}]}`,
			k + ".endpoints[1]", "access_key_id and secret_access_key go together"},
		{"keys and file", `{bucket: station, endpoints: [{url: "http://a:9000", access_key_id: ka, secret_access_key: sa, credentials_file: /etc/c}]}`,
			k + ".endpoints[0]", "set inline keys or credentials_file, not both"},
		{"relative file", `{bucket: station, endpoints: [{url: "http://a:9000", credentials_file: c}]}`,
			k + ".endpoints[0].credentials_file", "must be an absolute path"},
		{"profile alone", `{bucket: station, endpoints: [{url: "http://a:9000", profile: p}]}`,
			k + ".endpoints[0].profile", "only applies with this endpoint's credentials_file"},
		{"none writable", `{bucket: station, endpoints: [{url: "http://a:9000", write: false}, {url: "http://b:9000", write: false}]}`,
			k + ".endpoints", "at least one endpoint must have write: true; every one has write: false"},
		{"duplicate", `{bucket: station, endpoints: ["http://a:9000", "http://b:9000", "HTTP://A:9000/"]}`,
			k + ".endpoints[2].url", `same URL as endpoints[0]: "HTTP://A:9000/"`},
		{"unknown entry key", `{bucket: station, endpoints: [{url: "http://a:9000", regoin: eu-1}]}`,
			k + ".endpoints[0].regoin", "unknown key"},
		{"bad write", `{bucket: station, endpoints: [{url: "http://a:9000", write: sometimes}]}`,
			k + ".endpoints[0].write", ""},
		{"negative probe interval", `{bucket: station, probe_interval: -1s}`,
			k + ".probe_interval", "must be positive; got -1s"},
		{"negative endpoint timeout", `{bucket: station, endpoint_timeout: -5s}`,
			k + ".endpoint_timeout", "must be positive; got -5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(withEndpoints(tt.target)), nil)
			require.Error(t, err)
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				found = found || strings.HasPrefix(line, tt.key+": ") && strings.Contains(line, tt.msg)
			}
			require.True(t, found, "want %s: ...%s... in\n%v", tt.key, tt.msg, err)
		})
	}
}
