package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/config"
	"genesissync/internal/daemon"
	"genesissync/internal/objstore"
	"genesissync/internal/s3server"
	"genesissync/internal/station"
)

// The demo's defaults (the CLI's flags show them).
const (
	DefaultConfigPath = "configs/genesissync.example.yaml"
	DefaultDir        = "/tmp/genesissync-demo"
	DefaultMinIOAddr  = "127.0.0.1:9000"
)

// Options configure a demo run. Zero values mean the documented defaults.
type Options struct {
	// ConfigPath is the appliance config to run (the example config).
	ConfigPath string
	// Dir holds everything the demo creates. Default DefaultDir.
	Dir string
	// BinDir is where the minio binary is. Default: $GS_BIN_DIR,
	// else ./.bin.
	BinDir string
	// MinIOAddr is the S3 endpoint's address. Default DefaultMinIOAddr.
	MinIOAddr string
	// SMBPort and StatusAddr override the config's, for running a demo
	// beside another one (tests). Zero/empty keep the config's.
	SMBPort    int
	StatusAddr string
	Version    string
	// Ready is called once everything is up, with the facts a user needs.
	Ready func(Facts)
}

// Facts are what a user (or a test) needs to use the running demo. They
// are written to <Dir>/demo.env as shell variables.
type Facts struct {
	SMBAddr, SMBShare, SMBUser, SMBPassword string
	SharePath                               string
	S3Endpoint, S3Bucket, S3Prefix          string
	S3AccessKey, S3SecretKey                string
	StatusURL                               string
	// ConfigPath is the demo's effective config; CLI is a ready command
	// that uses it.
	ConfigPath, CLI string
	// AdminUser and AdminPassword are the status page's demo login;
	// empty when the config's admins do not use DemoAdminPassword.
	AdminUser, AdminPassword string
}

// DemoAdminPassword is the password whose bcrypt hash the example
// config gives its admin. Only the demo prints it.
const DemoAdminPassword = "admin-demo-password"

// Env renders the facts as shell variable assignments, one per line.
func (f Facts) Env() string {
	vars := map[string]string{
		"SMB_ADDR": f.SMBAddr, "SMB_SHARE": f.SMBShare, "SMB_USER": f.SMBUser, "SMB_PASSWORD": f.SMBPassword,
		"SHARE_PATH": f.SharePath, "S3_ENDPOINT": f.S3Endpoint, "S3_BUCKET": f.S3Bucket, "S3_PREFIX": f.S3Prefix,
		"S3_ACCESS_KEY": f.S3AccessKey, "S3_SECRET_KEY": f.S3SecretKey, "STATUS_URL": f.StatusURL,
		"ADMIN_USER": f.AdminUser, "ADMIN_PASSWORD": f.AdminPassword, "CONFIG": f.ConfigPath, "CLI": f.CLI,
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, shellQuote(vars[k]))
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Run runs the demo until ctx is cancelled, then stops everything it
// started.
func Run(ctx context.Context, opts Options, log zerolog.Logger) error {
	if opts.Dir == "" {
		opts.Dir = DefaultDir
	}
	if opts.MinIOAddr == "" {
		opts.MinIOAddr = DefaultMinIOAddr
	}
	if opts.BinDir == "" {
		opts.BinDir = os.Getenv("GS_BIN_DIR")
	}
	if opts.BinDir == "" {
		opts.BinDir = ".bin"
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(opts.ConfigPath)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	// The example config names the share; the demo moves every path into
	// its directory and writes the result as its effective config, which
	// the daemon runs and the CLI can be pointed at.
	probe, err := config.Parse(data, nil)
	if err != nil {
		return fmt.Errorf("demo config %s:\n%w", opts.ConfigPath, err)
	}
	effective, err := effectiveConfig(data, demoOverrides(probe, dir, opts))
	if err != nil {
		return fmt.Errorf("demo config %s: %w", opts.ConfigPath, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	effectivePath := filepath.Join(dir, "genesissync.yaml")
	if err := os.WriteFile(effectivePath, effective, 0o600); err != nil {
		return err
	}
	cfg, err := config.Parse(effective, os.Environ())
	if err != nil {
		return fmt.Errorf("demo config %s:\n%w", effectivePath, err)
	}
	if cfg.Status.Listen == "" {
		return errors.New("demo config: status.listen is empty; the demo needs the status page")
	}
	first := cfg.Shares[cfg.ShareNames()[0]]
	for _, s := range cfg.Shares {
		if s.Target.AccessKeyID == "" || s.Target.AccessKeyID != first.Target.AccessKeyID || s.Target.SecretAccessKey != first.Target.SecretAccessKey {
			return errors.New("demo config: every share needs the same inline target keys; they become the demo MinIO's root credentials")
		}
	}
	minio, err := s3server.StartMinIO(ctx, s3server.MinIOOptions{
		Bin:      filepath.Join(opts.BinDir, "minio"),
		Addr:     opts.MinIOAddr,
		DataDir:  filepath.Join(dir, "minio"),
		LogPath:  filepath.Join(dir, "minio.log"),
		User:     first.Target.AccessKeyID,
		Password: first.Target.SecretAccessKey.Reveal(),
		Quiet:    true,
	})
	if err != nil {
		return err
	}
	defer minio.Stop()
	log.Info().Str("component", "demo").Str("endpoint", "http://"+opts.MinIOAddr).Str("log", filepath.Join(dir, "minio.log")).Msg("minio running")

	for _, name := range cfg.ShareNames() {
		s := cfg.Shares[name]
		if err := os.MkdirAll(s.Path, 0o755); err != nil {
			return err
		}
		st, err := objstore.NewS3(ctx, station.S3Options(s.Target), log)
		if err != nil {
			return err
		}
		if err := st.EnsureBucket(ctx); err != nil {
			return fmt.Errorf("demo bucket %s: %w", s.Target.Bucket, err)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	d := daemon.New(cfg, log, opts.Version)
	g.Go(func() error { return d.Run(gctx) })
	g.Go(func() error {
		statusURL := "http://" + cfg.Status.Listen // no trailing slash: "$STATUS_URL/api/status"
		if err := waitHTTP(gctx, statusURL+"/healthz"); err != nil {
			return err
		}
		// The sample playlist goes in once the daemon has made the
		// service user, who must own it to change it over SMB.
		if first.Readiness.On() {
			uid, gid, err := station.Owner(cfg)
			if err == nil {
				err = seedOnAir(first.Path, uid, gid)
			}
			if err != nil {
				return fmt.Errorf("demo playlist: %w", err)
			}
		}
		facts := Facts{
			SMBAddr:    net.JoinHostPort(cfg.Samba.Listen, strconv.Itoa(cfg.Samba.Port)),
			SMBShare:   first.Name,
			SharePath:  first.Path,
			S3Endpoint: first.Target.Endpoint, S3Bucket: first.Target.Bucket, S3Prefix: first.Target.Prefix,
			S3AccessKey: first.Target.AccessKeyID, S3SecretKey: first.Target.SecretAccessKey.Reveal(),
			StatusURL:  statusURL,
			ConfigPath: effectivePath,
			CLI:        fmt.Sprintf("%s verify %s --config %s", cliPath(opts.BinDir), first.Name, effectivePath),
		}
		// The demo user is the first read-write user of the first share.
		for _, u := range sortedKeys(first.Access) {
			if first.Access[u] == config.AccessReadWrite {
				p, err := cfg.Users[u].ResolvePassword()
				if err != nil {
					return err
				}
				facts.SMBUser, facts.SMBPassword = u, p.Reveal()
				break
			}
		}
		facts.AdminUser, facts.AdminPassword = demoAdmin(cfg)
		if facts.AdminUser != "" {
			log.Info().Str("component", "demo").Str("url", statusURL+"/login").Str("user", facts.AdminUser).
				Str("password", facts.AdminPassword).Msg("status page admin login (the demo's published password)")
		}
		envPath := filepath.Join(dir, "demo.env")
		if err := os.WriteFile(envPath, []byte(facts.Env()), 0o600); err != nil {
			return err
		}
		if opts.Ready != nil {
			opts.Ready(facts)
		}
		return nil
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) || ctx.Err() != nil && err == nil {
		return nil
	}
	return err
}

// demoOverrides are the keys the demo changes in the example config:
// everything it writes goes under dir, smbd is its own, the status page
// is plain HTTP on loopback (a Secure cookie would never come back), and
// every share's endpoint is the demo's MinIO.
func demoOverrides(cfg *config.Config, dir string, opts Options) []override {
	str := func(v string, path ...string) override { return override{path: path, tag: "!!str", value: v} }
	o := []override{
		str(filepath.Join(dir, "state"), "state_dir"),
		str(filepath.Join(dir, "samba"), "samba", "run_dir"),
		str(config.SambaStandalone, "samba", "mode"),
		{path: []string{"status", "secure_cookie"}, tag: "!!bool", value: "false"},
	}
	if opts.SMBPort != 0 {
		o = append(o, override{path: []string{"samba", "port"}, tag: "!!int", value: strconv.Itoa(opts.SMBPort)})
	}
	if opts.StatusAddr != "" {
		o = append(o, str(opts.StatusAddr, "status", "listen"))
	}
	for _, name := range cfg.ShareNames() {
		o = append(o, str(filepath.Join(dir, "shares", name), "shares", name, "path"),
			str("http://"+opts.MinIOAddr, "shares", name, "target", "endpoint"))
	}
	return o
}

// cliPath is the genesissync binary a user runs beside the demo: the
// running one, else the one in binDir.
func cliPath(binDir string) string {
	if exe, err := os.Executable(); err == nil {
		return exe
	}
	return filepath.Join(binDir, "genesissync")
}

// demoAdmin returns the first admin whose hash is DemoAdminPassword's.
func demoAdmin(cfg *config.Config) (string, string) {
	hashes := cfg.Status.AdminHashes()
	for _, u := range sortedKeys(hashes) {
		if bcrypt.CompareHashAndPassword([]byte(hashes[u]), []byte(DemoAdminPassword)) == nil {
			return u, DemoAdminPassword
		}
	}
	return "", ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// waitHTTP polls url until it answers at all (any status: /healthz may
// say 503 while the first scan runs).
func waitHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("status page %s did not come up: %w", url, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
