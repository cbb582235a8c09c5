package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RcloneEnv is the environment for Debian's rclone to reach m as remote
// "<remote>:" (remote in upper case, configured by RCLONE_CONFIG_<REMOTE>_*
// variables and an empty config file), without AWS_CA_BUNDLE, which
// rclone cannot use on plain http://.
func (m *MinIO) RcloneEnv(t testing.TB, remote string) []string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
			env = append(env, kv)
		}
	}
	p := "RCLONE_CONFIG_" + remote + "_"
	return append(env,
		"RCLONE_CONFIG="+conf,
		p+"TYPE=s3",
		p+"PROVIDER=Minio",
		p+"ENDPOINT="+m.Endpoint,
		p+"REGION=us-east-1",
		p+"ACCESS_KEY_ID="+m.AccessKey,
		p+"SECRET_ACCESS_KEY="+m.SecretKey,
	)
}

// Rclone runs Debian's rclone against m as remote "t:" and returns its
// output, failing the test if it fails. Tests use it as another writer
// of the bucket, with rclone's own multipart chunk size.
func (m *MinIO) Rclone(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(RequireBinary(t, "rclone"), args...)
	cmd.Env = m.RcloneEnv(t, "T")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rclone %v: %v\n%s", args, err, out)
	}
	return string(out)
}
