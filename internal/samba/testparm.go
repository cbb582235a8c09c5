package samba

import (
	"context"
	"fmt"
	"strings"
)

// Testparm checks the smb.conf at path with `testparm -s --suppress-prompt`.
// It fails when testparm does, and also when testparm merely ignores an
// unknown parameter or a bad value (it exits 0 for those); the error holds
// testparm's complaint. Safe for concurrent use.
func Testparm(ctx context.Context, path string) error {
	return testparm(ctx, execRunner{}, path)
}

func testparm(ctx context.Context, r runner, path string) error {
	_, stderr, err := r.run(ctx, nil, "testparm", "-s", "--suppress-prompt", path)
	if err != nil {
		return fmt.Errorf("testparm %s: %w", path, err)
	}
	if complaint := testparmComplaint(string(stderr)); complaint != "" {
		return fmt.Errorf("testparm %s: %s", path, complaint)
	}
	return nil
}

// testparmComplaint returns the lines of testparm's standard error that
// report a problem, or "" when there are none. testparm exits 0 after
// ignoring an unknown parameter, so the text is what tells.
func testparmComplaint(stderr string) string {
	var bad []string
	for l := range strings.SplitSeq(stderr, "\n") {
		l = strings.TrimSpace(l)
		low := strings.ToLower(l)
		switch {
		case l == "":
		case strings.HasPrefix(low, "unknown parameter"),
			strings.HasPrefix(low, "ignoring unknown parameter"),
			strings.Contains(low, "is not boolean"),
			strings.HasPrefix(low, "error"),
			strings.HasPrefix(low, "warning"):
			bad = append(bad, l)
		}
	}
	return strings.Join(bad, "; ")
}
