package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"genesissync/internal/objstore"
)

// Endpoint defaults of a target with several endpoints.
const (
	// DefaultProbeInterval is target.probe_interval's default.
	DefaultProbeInterval = time.Minute
	// DefaultEndpointTimeout is target.endpoint_timeout's default, the
	// object store's.
	DefaultEndpointTimeout = objstore.DefaultEndpointTimeout
)

// Endpoint is one entry of target.endpoints, either just its URL:
//
//	endpoints:
//	  - http://minio-a.lan:9000
//	  - url: https://minio-b.example.net
//	    region: eu-west-1
//	    write: false
//
// or a map of the keys below. Keys left out take the target's value; the
// credentials (access_key_id with secret_access_key, or credentials_file
// with profile) go as a whole: an entry that sets none of them uses the
// target's, one that sets some uses only its own.
type Endpoint struct {
	// URL is the endpoint's http:// or https:// URL, without a path (put
	// that in the target's prefix).
	URL string `mapstructure:"url"`
	// Region signs requests to this endpoint (a replica in another
	// region).
	Region string `mapstructure:"region"`
	// PathStyle addresses the bucket in the path at this endpoint (MinIO)
	// rather than in the host name.
	PathStyle *bool `mapstructure:"path_style"`
	// AccessKeyID is this endpoint's inline key.
	AccessKeyID string `mapstructure:"access_key_id"`
	// SecretAccessKey goes with AccessKeyID.
	SecretAccessKey Secret `mapstructure:"secret_access_key"`
	// CredentialsFile is an AWS shared credentials file for this
	// endpoint, instead of inline keys.
	CredentialsFile string `mapstructure:"credentials_file"`
	// Profile is the profile to read from CredentialsFile.
	Profile string `mapstructure:"profile"`
	// Write lets writes (uploads, copies, deletes) go to this endpoint;
	// false makes it a read replica, used for listings and downloads.
	Write *bool `mapstructure:"write"`
}

// Writable reports whether writes may go to the endpoint: Write, true
// when unset.
func (e Endpoint) Writable() bool { return e.Write == nil || *e.Write }

// applyEndpointDefaults fills the probe interval and the per-endpoint
// timeout.
func (t *Target) applyEndpointDefaults() {
	if t.ProbeInterval == 0 {
		t.ProbeInterval = DefaultProbeInterval
	}
	if t.EndpointTimeout == 0 {
		t.EndpointTimeout = DefaultEndpointTimeout
	}
}

// validateEndpoints checks target key's endpoint, endpoints, probe
// interval and endpoint timeout.
func (t *Target) validateEndpoints(key string, add addFunc) {
	if t.Endpoint != "" {
		checkEndpointURL(key+".endpoint", t.Endpoint, add)
	}
	if t.Endpoint != "" && len(t.Endpoints) > 0 {
		add(key, "set either endpoint or endpoints, not both")
	}
	seen := map[string]int{} // normalised URL -> first position
	writable := false
	for i, e := range t.Endpoints {
		ekey := fmt.Sprintf("%s.endpoints[%d]", key, i)
		if e.URL == "" {
			add(ekey+".url", "required")
		} else if checkEndpointURL(ekey+".url", e.URL, add) {
			u := endpointIdentity(e.URL)
			if j, dup := seen[u]; dup {
				add(ekey+".url", "same URL as endpoints[%d]: %q", j, e.URL)
			} else {
				seen[u] = i
			}
		}
		if hasControl(e.Region) {
			add(ekey+".region", "contains control characters")
		}
		checkCredentials(add, ekey, e.AccessKeyID, string(e.SecretAccessKey), e.CredentialsFile, e.Profile, "this endpoint's credentials_file")
		writable = writable || e.Writable()
	}
	if len(t.Endpoints) > 0 && !writable {
		add(key+".endpoints", "at least one endpoint must have write: true; every one has write: false")
	}
	if t.ProbeInterval < 0 {
		add(key+".probe_interval", "must be positive; got %s", t.ProbeInterval)
	}
	if t.EndpointTimeout < 0 {
		add(key+".endpoint_timeout", "must be positive; got %s", t.EndpointTimeout)
	}
}

// checkEndpointURL reports an S3 endpoint URL that is not http(s) with a
// host and no path; it returns whether the URL is good.
func checkEndpointURL(key, raw string, add addFunc) bool {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		add(key, "not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		add(key, "must be an http:// or https:// URL; got %q", raw)
	case u.Host == "":
		add(key, "has no host: %q", raw)
	case u.Path != "" && u.Path != "/":
		add(key, "must not have a path (put it in prefix): %q", raw)
	default:
		return true
	}
	return false
}

// endpointIdentity is what two endpoint URLs share when they name the same
// endpoint: scheme and host, case-folded, without a trailing slash. It
// assumes a URL that checkEndpointURL accepted.
func endpointIdentity(raw string) string {
	u, _ := url.Parse(raw)
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

var (
	endpointType  = reflect.TypeOf(Endpoint{})
	endpointsType = reflect.TypeOf([]Endpoint(nil))
)

// endpointsHook decodes the short forms of target.endpoints: an entry that
// is a string is {url: <string>}, and a string for the whole list (an
// environment override) is comma-separated URLs.
func endpointsHook(_ reflect.Type, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok {
		return data, nil
	}
	switch to {
	case endpointType:
		return map[string]any{"url": s}, nil
	case endpointsType:
		var out []any
		for _, u := range strings.Split(s, ",") {
			if u = strings.TrimSpace(u); u != "" {
				out = append(out, map[string]any{"url": u})
			}
		}
		return out, nil
	}
	return data, nil
}
