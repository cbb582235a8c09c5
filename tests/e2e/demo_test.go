package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/samba"
	"genesissync/tests/harness"
)

// TestDemo runs `genesissync demo` as `task demo` does (on free ports, so
// it can run beside a developer's own demo), uses what demo.env says, and
// checks that Ctrl-C leaves no process behind.
func TestDemo(t *testing.T) {
	bin := harness.Binary(t)
	harness.RequireBinary(t, "minio")
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	_, smbPort, _ := strings.Cut(harness.FreeAddr(t), ":")
	cmd := exec.Command(bin, "demo",
		"--config", "configs/genesissync.example.yaml",
		"--dir", dir,
		"--minio-addr", harness.FreeAddr(t),
		"--smb-port", smbPort,
		"--status-addr", harness.FreeAddr(t))
	cmd.Dir = harness.RepoRoot()
	out, err := os.Create(filepath.Join(dir, "demo.out"))
	require.NoError(t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(dir, "demo.out"))
			t.Logf("demo output:\n%s", data)
		}
	})

	envPath := filepath.Join(dir, "demo.env")
	require.Eventually(t, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("demo exited early: %v", err)
		default:
		}
		_, err := os.Stat(envPath)
		return err == nil
	}, 3*time.Minute, 100*time.Millisecond, "demo.env was not written")
	env := readEnv(t, envPath)
	for _, k := range []string{"SMB_ADDR", "SMB_SHARE", "SMB_USER", "SMB_PASSWORD", "SHARE_PATH", "S3_ENDPOINT", "S3_BUCKET", "S3_PREFIX", "S3_ACCESS_KEY", "S3_SECRET_KEY", "STATUS_URL"} {
		require.NotEmpty(t, env[k], k)
	}
	printed, err := os.ReadFile(filepath.Join(dir, "demo.out"))
	require.NoError(t, err)
	require.Contains(t, string(printed), env["STATUS_URL"], "the status page URL is printed")

	ctx := context.Background()
	c, err := samba.Connect(ctx, env["SMB_ADDR"], env["SMB_SHARE"], env["SMB_USER"], env["SMB_PASSWORD"])
	require.NoError(t, err)
	writeSMB(t, c, "demo/hello.mp3", 42, 100<<10)
	require.NoError(t, c.Close())
	store, err := objstore.NewS3(ctx, objstore.S3Options{
		Endpoint: env["S3_ENDPOINT"], Region: "us-east-1", Bucket: env["S3_BUCKET"], Prefix: env["S3_PREFIX"],
		PathStyle: true, AccessKeyID: env["S3_ACCESS_KEY"], SecretAccessKey: env["S3_SECRET_KEY"],
	}, zerolog.Nop())
	require.NoError(t, err)
	waitObject(t, store, "demo/hello.mp3", time.Minute)
	requireObject(t, store, "demo/hello.mp3", 42, 100<<10)

	// The printed CLI command works as it is: the demo's effective config
	// reaches its daemon.
	require.Contains(t, string(printed), env["CLI"])
	require.Equal(t, filepath.Join(dir, "genesissync.yaml"), env["CONFIG"])
	args := strings.Fields(env["CLI"])
	cli, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	require.NoError(t, err, "%s: %s", env["CLI"], cli)
	require.Contains(t, string(cli), "clean", "the demo share verifies clean, its sample playlist and track included")

	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		require.NoError(t, err, "demo exits cleanly on Ctrl-C")
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not stop within 60s of Ctrl-C")
	}
	// samba-dcerpcd and MinIO must be gone too: nothing may mention the
	// demo directory any more.
	require.Eventually(t, func() bool { return len(processesMentioning(dir)) == 0 }, 15*time.Second, 200*time.Millisecond,
		"processes left behind: %v", processesMentioning(dir))
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		require.True(t, ok, "demo.env line %q", sc.Text())
		uq, err := strconv.Unquote(`"` + strings.Trim(v, "'") + `"`)
		require.NoError(t, err)
		env[k] = uq
	}
	return env
}

// processesMentioning lists the command lines of processes whose command
// line contains s.
func processesMentioning(s string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		line := strings.ReplaceAll(string(data), "\x00", " ")
		if strings.Contains(line, s) {
			found = append(found, filepath.Base(filepath.Dir(p))+": "+line)
		}
	}
	return found
}
