package harness

import (
	"bytes"
	"net/url"
	"os/exec"
	"testing"
)

// MC runs the MinIO client against m as alias "t" (configured through
// MC_HOST_t, so no config file is written) and returns its output,
// failing the test if it fails. Tests use it to play the bucket's other
// writers (web apps, people with S3 tools), whose objects carry none of
// the appliance's metadata.
func (m *MinIO) MC(t testing.TB, stdin []byte, args ...string) string {
	t.Helper()
	out, err := m.TryMC(t, stdin, args...)
	if err != nil {
		t.Fatalf("mc %v: %v\n%s", args, err, out)
	}
	return out
}

// TryMC is MC that returns the error instead of failing the test.
func (m *MinIO) TryMC(t testing.TB, stdin []byte, args ...string) (string, error) {
	t.Helper()
	bin := RequireBinary(t, "mc")
	u, err := url.Parse(m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(m.AccessKey, m.SecretKey)
	cmd := exec.Command(bin, append([]string{"--quiet", "--no-color", "--config-dir", t.TempDir()}, args...)...)
	cmd.Env = append(cmd.Environ(), "MC_HOST_t="+u.String())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
