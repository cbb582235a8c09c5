package harness

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// ChecksumRefusingProxy is an HTTP proxy in front of a real S3 server
// (MinIO) that answers like Backblaze B2 did until mid-2025 to any
// request carrying a checksum header (x-amz-checksum-*,
// x-amz-sdk-checksum-algorithm, a trailer naming a checksum): 400
// InvalidArgument "Unsupported header '...' received for this API call."
// Everything else is relayed as it is, with the client's Host header, so
// that its signatures stay valid. Endpoint is what a client uses instead
// of the server's. Safe for concurrent use; closed by t.Cleanup.
type ChecksumRefusingProxy struct {
	Endpoint string // http://127.0.0.1:PORT
	refused  atomic.Int64
	relayed  atomic.Int64
}

// Refused is how many requests it refused; Relayed how many it passed.
func (p *ChecksumRefusingProxy) Refused() int64 { return p.refused.Load() }
func (p *ChecksumRefusingProxy) Relayed() int64 { return p.relayed.Load() }

// StartChecksumRefusingProxy proxies to endpoint (http://host:port).
func StartChecksumRefusingProxy(t testing.TB, endpoint string) *ChecksumRefusingProxy {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("checksum-refusing proxy: %v", err)
	}
	p := &ChecksumRefusingProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // signed by the client
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("checksum-refusing proxy: %v", err)
	}
	p.Endpoint = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := checksumHeader(r.Header); h != "" {
			p.refused.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n<Error>\n    <Code>InvalidArgument</Code>\n    <Message>Unsupported header '" +
				h + "' received for this API call.</Message>\n</Error>"))
			return
		}
		p.relayed.Add(1)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// checksumHeader is the first checksum header of h, lower-case, or "".
func checksumHeader(h http.Header) string {
	for name, vals := range h {
		n := strings.ToLower(name)
		switch {
		case strings.HasPrefix(n, "x-amz-checksum-"), n == "x-amz-sdk-checksum-algorithm":
			return n
		case n == "x-amz-trailer":
			for _, v := range vals {
				if strings.Contains(strings.ToLower(v), "checksum") {
					return strings.ToLower(v)
				}
			}
		}
	}
	return ""
}
