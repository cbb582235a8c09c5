// Package hosttool finds the host's administration tools (smbd, pdbedit,
// zfs, zpool, ...) and gives them a stable environment. It runs nothing
// itself: each tool is executed only by the package that owns it (samba,
// zfs). Its functions are safe for concurrent use.
package hosttool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Env is the environment every tool runs with: the daemon's, with a C
// locale so that the output and messages parsed from it do not change
// with the host's language.
func Env() []string {
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LC_ALL=") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// Path finds a tool in PATH, then in the sbin and bin directories that a
// minimal PATH (cron, some service managers) leaves out. A tool found
// nowhere is returned as given, for exec to report as not found.
func Path(tool string) string {
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, tool)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return tool
}
