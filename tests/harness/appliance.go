package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/samba"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds the genesissync binary once per test process and returns
// its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "genesissync-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "genesissync")
		cmd := exec.Command("go", "build", "-o", buildPath, "./appliance")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// Appliance is a genesissync daemon process with one share, standalone
// smbd on a free loopback port and a bucket on a real MinIO. Its fields
// are what tests need to play the studio PC and the bucket's other users.
type Appliance struct {
	Name       string // appliance.name
	Dir        string // everything of this appliance
	SharePath  string
	ConfigPath string
	SMBAddr    string
	StatusURL  string
	User       string
	Password   string
	Bucket     string
	Prefix     string
	MinIO      *MinIO       // nil when started by StartApplianceOn
	Store      *objstore.S3 // the share's target, for checks

	// EventsURL and EventsToken are the bucket events endpoint and the
	// token it wants (MinIO's notify_webhook endpoint and auth_token);
	// empty unless ApplianceOptions.Events.
	EventsURL   string
	EventsToken string

	bin     string
	env     []string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// ApplianceOptions tune StartAppliance. Zero values are sensible.
type ApplianceOptions struct {
	Settle         time.Duration // 0 means 1s
	ScanInterval   time.Duration // 0 means 1m
	RemoteInterval time.Duration // 0 means 2s
	Delete         string        // "" means mirror
	// DeleteGuardPercent overrides the mass-delete guard's percentage
	// (0 keeps the default), for tests whose workload deletes a lot.
	DeleteGuardPercent float64
	Events             bool // serve the bucket events endpoint (free port, random token)
	// SharePath puts the share on an existing directory (a test's ZFS
	// dataset) instead of a fresh one; Dataset names its ZFS dataset.
	SharePath string
	Dataset   string
	// Config is extra top-level YAML appended to the config (e.g. an
	// alerts: section); ShareConfig is extra YAML for the share, each
	// line indented by four spaces (e.g. "    snapshots: {interval: 1m}").
	Config      string
	ShareConfig string
	// Endpoint replaces MinIO's endpoint in the share's target (a
	// FaultProxy in front of it); the Appliance's Store still talks to
	// MinIO directly.
	Endpoint string
	// Endpoints, when set, are the target's endpoints (target.endpoints)
	// instead of one; the Appliance's Store talks to the server given to
	// StartApplianceOn directly.
	Endpoints []TargetEndpoint
	// Name is the appliance's name (appliance.name); empty means a new
	// random one, so that appliances of one test never share a name.
	Name string
	// Heartbeat is appliance.heartbeat_interval (stale_after is five of
	// them); 0 leaves both at their defaults.
	Heartbeat time.Duration
	// TargetConfig is extra YAML for the share's target, each line
	// indented by six spaces (e.g. "      endpoint_timeout: 2s").
	TargetConfig string
	// Env are extra KEY=VALUE variables for the daemon (GENESISSYNC_*
	// overrides), which, unlike t.Setenv, parallel tests may use.
	Env []string
	// BeforeStart, if set, runs once the config is written and the bucket
	// exists, before the daemon's first start (e.g. a CLI dry run).
	BeforeStart func(a *Appliance)
}

// TargetEndpoint is one endpoint of a target with several.
type TargetEndpoint struct {
	URL                  string
	AccessKey, SecretKey string // empty: the target's
	ReadOnly             bool   // write: false
}

// endpointsYAML is the target's endpoints: list, or its endpoint: line.
func endpointsYAML(one string, several []TargetEndpoint) string {
	if len(several) == 0 {
		return "endpoint: " + one
	}
	y := "endpoints:"
	for _, e := range several {
		y += fmt.Sprintf("\n        - {url: %q", e.URL)
		if e.AccessKey != "" {
			y += fmt.Sprintf(", access_key_id: %q, secret_access_key: %q", e.AccessKey, e.SecretKey)
		}
		if e.ReadOnly {
			y += ", write: false"
		}
		y += "}"
	}
	return y
}

// StartAppliance creates a share directory and bucket, writes a config,
// starts the daemon and waits until its first full scan finished. It is
// stopped by t.Cleanup (SIGTERM) and its log printed if the test failed.
func StartAppliance(t testing.TB, m *MinIO, o ApplianceOptions) *Appliance {
	t.Helper()
	a := StartApplianceOn(t, m.S3Server, o)
	a.MinIO = m
	return a
}

// StartApplianceOn is StartAppliance against any S3 server; the
// Appliance's MinIO is nil.
func StartApplianceOn(t testing.TB, m S3Server, o ApplianceOptions) *Appliance {
	t.Helper()
	if o.Settle == 0 {
		o.Settle = time.Second
	}
	if o.ScanInterval == 0 {
		o.ScanInterval = time.Minute
	}
	if o.RemoteInterval == 0 {
		o.RemoteInterval = 2 * time.Second
	}
	if o.Delete == "" {
		o.Delete = "mirror"
	}
	if o.DeleteGuardPercent == 0 {
		o.DeleteGuardPercent = 10
	}
	dir := t.TempDir()
	// The service user must be able to reach the share through its
	// parents; t.TempDir makes them 0700.
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	a := &Appliance{
		Dir:        dir,
		SharePath:  filepath.Join(dir, "share"),
		ConfigPath: filepath.Join(dir, "genesissync.yaml"),
		SMBAddr:    FreeAddr(t),
		StatusURL:  "http://" + FreeAddr(t),
		User:       "studio",
		Password:   "studio-test-password",
		Bucket:     "station",
		Prefix:     "studio/",
		bin:        Binary(t),
		env:        o.Env,
		logPath:    filepath.Join(dir, "daemon.log"),
	}
	if o.SharePath != "" {
		a.SharePath = o.SharePath
		// The service user must reach it through its parents too.
		for d := filepath.Dir(o.SharePath); d != "/" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 == 0 {
				require.NoError(t, os.Chmod(d, fi.Mode().Perm()|0o055))
			}
		}
	}
	require.NoError(t, os.MkdirAll(a.SharePath, 0o755))
	_, port, _ := net.SplitHostPort(a.SMBAddr)
	endpoint := m.Endpoint
	if o.Endpoint != "" {
		endpoint = o.Endpoint
	}
	events := ""
	if o.Events {
		addr := FreeAddr(t)
		a.EventsURL = "http://" + addr + "/"
		a.EventsToken = randomHex(t, 16)
		events = fmt.Sprintf("events: {listen: %q, token: %q}\n", addr, a.EventsToken)
	}
	// The ransomware tripwire is on, as shipped: a test that writes
	// random bytes under audio names gets them recorded as not valid in
	// their format, whose rewrites are neither counted nor held.
	shareConfig := o.ShareConfig
	if o.Name == "" {
		o.Name = "appliance-" + randomHex(t, 4)
	}
	a.Name = o.Name
	heartbeat := ""
	if o.Heartbeat > 0 {
		heartbeat = fmt.Sprintf(", heartbeat_interval: %s, stale_after: %s", o.Heartbeat, 5*o.Heartbeat)
	}
	cfg := fmt.Sprintf(`
appliance: {name: %q%s}
state_dir: %s/state
log: {level: debug, format: json}
status: {listen: %q}
%ssamba: {mode: standalone, listen: 127.0.0.1, port: %s}
users:
  studio: {password: %q}
  player: {password: player-test-password}
shares:
  studio:
    path: %s
    access: {studio: rw, player: ro}
    settle: %s
    scan_interval: %s
    remote_interval: %s
    delete: %s
    delete_guard: {max_percent: %g}
    dataset: %q
    target:
      %s
      bucket: %s
      prefix: %s
      path_style: true
      access_key_id: %s
      secret_access_key: %s
%s
%s
%s
`, o.Name, heartbeat, dir, a.StatusURL[len("http://"):], events, port, a.Password, a.SharePath, o.Settle, o.ScanInterval, o.RemoteInterval, o.Delete, o.DeleteGuardPercent, o.Dataset,
		endpointsYAML(endpoint, o.Endpoints), a.Bucket, a.Prefix, m.AccessKey, m.SecretKey, o.TargetConfig, shareConfig, o.Config)
	require.NoError(t, os.WriteFile(a.ConfigPath, []byte(cfg), 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	a.Store, err = objstore.NewS3(ctx, objstore.S3Options{
		Endpoint: m.Endpoint, Region: "us-east-1", Bucket: a.Bucket, Prefix: a.Prefix, PathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
	}, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, a.Store.EnsureBucket(ctx))

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log (%s):\n%s", a.logPath, tail(a.logPath, 64<<10))
		}
	})
	t.Cleanup(a.Stop)
	if o.BeforeStart != nil {
		o.BeforeStart(a)
	}
	a.Start(t)
	return a
}

// Start starts the daemon process and waits until its first full scan
// is done.
func (a *Appliance) Start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	defer logf.Close()
	cmd := exec.Command(a.bin, "run", "--config", a.ConfigPath)
	cmd.Env = append(os.Environ(), a.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	a.cmd, a.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(a.done) }()
	require.Eventually(t, func() bool {
		select {
		case <-a.done:
			t.Fatalf("daemon exited during start:\n%s", tail(a.logPath, 16<<10))
		default:
		}
		st, err := a.Status()
		return err == nil && st.Samba.Up && len(st.Shares) == 1 && !st.Shares[0].LastFullScan.IsZero()
	}, 60*time.Second, 100*time.Millisecond, "daemon did not become ready")
}

// Stop sends SIGTERM and waits for the daemon (and so its smbd) to exit.
// Idempotent.
func (a *Appliance) Stop() {
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
	a.cmd = nil
}

// Kill sends SIGKILL: a crash, with no chance to clean up.
func (a *Appliance) Kill() {
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Kill()
	<-a.done
	a.cmd = nil
}

// Status reads /api/status.
func (a *Appliance) Status() (model.Snapshot, error) {
	var snap model.Snapshot
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(a.StatusURL + "/api/status")
	if err != nil {
		return snap, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return snap, fmt.Errorf("status: %s", resp.Status)
	}
	return snap, json.NewDecoder(resp.Body).Decode(&snap)
}

// Share returns the single share's status, failing the test on error.
func (a *Appliance) Share(t testing.TB) model.Share {
	t.Helper()
	snap, err := a.Status()
	require.NoError(t, err)
	require.Len(t, snap.Shares, 1)
	return snap.Shares[0]
}

// SMB logs on to the share as the studio user, as a playout PC would.
func (a *Appliance) SMB(t testing.TB) *samba.Client {
	t.Helper()
	ctx := context.Background()
	c, err := samba.Connect(ctx, a.SMBAddr, "studio", a.User, a.Password)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// CLI runs a genesissync command against this appliance's config and
// returns its output, failing the test if it fails.
func (a *Appliance) CLI(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(a.bin, append(args, "--config", a.ConfigPath)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "genesissync %v:\n%s", args, out)
	return string(out)
}

// LogPath is the daemon's log file.
func (a *Appliance) LogPath() string { return a.logPath }

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(t testing.TB) string { return freeAddr(t) }
