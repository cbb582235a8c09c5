// Package harness starts the real things GenesisSync's tests need (MinIO,
// versitygw and SeaweedFS, the appliance itself, fault-injecting proxies)
// and finds the binaries they run, mc and rclone among them.
//
// A test that needs a service starts the real thing and fails, never skips,
// when it cannot: a missing binary is a broken setup (`go tool task setup`
// installs them into <repo root>/.bin, or $GS_BIN_DIR), not a
// reason to pass.
//
// Everything started here is owned by the test that started it: it lives in
// t.TempDir(), listens on 127.0.0.1 on a free port, and is stopped by
// t.Cleanup. Its log goes to a file in the temp dir and is printed with t.Log
// when the test fails. Processes get SIGKILL if the test binary dies, so a
// timed-out run leaves nothing behind.
//
// This package is imported only by _test.go files. Values are for the
// goroutine that runs the test unless a method says otherwise.
package harness
