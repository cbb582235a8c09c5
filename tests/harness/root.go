package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BinDirEnv overrides the directory that holds test binaries.
const BinDirEnv = "GS_BIN_DIR"

// RepoRoot returns the repository root: the nearest directory at or above
// the working directory that holds go.mod. It returns "" if there is none.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// BinDir returns where `go tool task setup` installs the binaries tests run:
// $GS_BIN_DIR if set, else <repo root>/.bin.
func BinDir() string {
	if d := os.Getenv(BinDirEnv); d != "" {
		return d
	}
	root := RepoRoot()
	if root == "" {
		return ".bin"
	}
	return filepath.Join(root, ".bin")
}

// RequireBinary returns the path of the executable name, looked up in BinDir
// first and then in PATH. If it is in neither, the test fails (never skips):
// the setup is broken and must be fixed.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := findBinary(name)
	if err != nil {
		t.Fatalf("%s not found in %s or PATH: run `go tool task setup` (%v)", name, BinDir(), err)
	}
	return path
}

func findBinary(name string) (string, error) {
	p := filepath.Join(BinDir(), name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p, nil
	}
	return exec.LookPath(name)
}
