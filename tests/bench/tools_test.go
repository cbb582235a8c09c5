package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/tests/harness"
)

// The tools compared, in the order of the first round.
const (
	toolGS     = "genesissync"
	toolMC     = "mc mirror"
	toolRclone = "rclone sync"
)

var tools = []string{toolGS, toolMC, toolRclone}

// order is the tools' order in round r (0-based): rotated each round so
// that no tool always runs first (cold MinIO) or right after another.
func order(r int) []string {
	out := make([]string, len(tools))
	for i := range tools {
		out[i] = tools[(i+r)%len(tools)]
	}
	return out
}

// peers runs mc and rclone against the bench MinIO. mc is the pinned
// build in .bin (MC_HOST_t, no config file); rclone is Debian's, set up
// by RCLONE_CONFIG_BENCH_* variables (remote "bench:") and run without
// AWS_CA_BUNDLE, which it cannot use on plain http.
type peers struct {
	b      *testing.B
	m      *harness.MinIO
	rclone string
	env    []string
}

func newPeers(b *testing.B, m *harness.MinIO) *peers {
	rclone := harness.RequireBinary(b, "rclone")
	env := m.RcloneEnv(b, "BENCH")
	return &peers{b: b, m: m, rclone: rclone, env: env}
}

// sync copies src to dst with tool: "mc mirror SRC DST" or "rclone sync
// SRC DST" with each tool's default settings (rclone: 4 transfers, 8
// checkers, modification times in metadata). Remote paths are
// "BUCKET/PREFIX"; srcRemote says which side is the bucket.
func (p *peers) sync(tool, src, dst string, srcRemote bool) {
	p.b.Helper()
	remote := func(s string, isRemote bool) (mc, rc string) {
		if isRemote {
			return "t/" + s, "bench:" + s
		}
		return s, s
	}
	mcSrc, rcSrc := remote(src, srcRemote)
	mcDst, rcDst := remote(dst, !srcRemote)
	switch tool {
	case toolMC:
		p.m.MC(p.b, nil, "mirror", mcSrc, mcDst)
	case toolRclone:
		cmd := exec.Command(p.rclone, "sync", rcSrc, rcDst)
		cmd.Env = p.env
		out, err := cmd.CombinedOutput()
		require.NoError(p.b, err, "rclone sync %s %s:\n%s", rcSrc, rcDst, out)
	default:
		p.b.Fatalf("unknown peer %q", tool)
	}
}

// clear removes every object under BUCKET/PREFIX (untimed).
func (p *peers) clear(path string) {
	p.b.Helper()
	// mc rm fails on an empty prefix; emptiness is what we want.
	_, _ = p.m.TryMC(p.b, nil, "rm", "--recursive", "--force", "t/"+path)
}

// version returns the first line of "BIN --version" for the report.
func version(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s: %v", bin, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// writeDataset writes files files of size random bytes into dir, spread
// over folders folders, with mtimes an hour old (settled for every tool).
func writeDataset(b *testing.B, dir string, files, size, folders int) {
	b.Helper()
	old := time.Now().Add(-time.Hour)
	buf := make([]byte, size)
	for i := 0; i < files; i++ {
		var seed [32]byte
		seed[0], seed[1], seed[2] = byte(i), byte(i>>8), byte(i>>16)
		rand.NewChaCha8(seed).Read(buf)
		p := filepath.Join(dir, fmt.Sprintf("dir%03d", i%folders), fmt.Sprintf("file%06d.wav", i))
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, buf, 0o644))
		require.NoError(b, os.Chtimes(p, old, old))
	}
}

// countFiles checks that dir holds exactly want regular files.
func countFiles(b *testing.B, dir string, want int) {
	b.Helper()
	n := 0
	require.NoError(b, filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	}))
	require.Equal(b, want, n, "files in %s", dir)
}

// waitFor polls cond every 20 ms until it holds, failing after timeout.
func waitFor(b *testing.B, timeout time.Duration, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
