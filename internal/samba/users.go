package samba

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// useraddAttempts bounds retries of useradd while /etc/passwd is locked by
// another process (about 4.5 s in all).
const useraddAttempts = 10

// maxPasswordBytes bounds an SMB password; pdbedit reads a line of at most
// a few hundred bytes.
const maxPasswordBytes = 256

// SyncUsers makes the Unix and Samba accounts match the configuration:
//
//   - a Unix account exists for serviceUser and for every SMB user (created
//     with useradd --system --no-create-home --shell /usr/sbin/nologin, in a
//     group of its own name, when getent does not know it; existing accounts
//     are left as they are);
//   - every SMB user in users (name to password) has that Samba password,
//     set with pdbedit -a -t (which also updates an existing account);
//   - every Samba account not in users is removed (pdbedit -x). Unix
//     accounts are never removed: they may still own files.
//
// conf is the smb.conf passed to pdbedit with -s; it selects the passdb. An
// empty conf means the system smb.conf (appliance mode).
// Passwords go to pdbedit's standard input only, never to a command line,
// log or error. Callers must not run SyncUsers for the same conf from two
// goroutines at once.
func SyncUsers(ctx context.Context, serviceUser string, users map[string]string, conf string) error {
	return syncUsers(ctx, execRunner{}, serviceUser, users, conf)
}

func syncUsers(ctx context.Context, r runner, serviceUser string, users map[string]string, conf string) error {
	if err := CheckUserName(serviceUser); err != nil {
		return fmt.Errorf("sync samba users: service user %q: %w", serviceUser, err)
	}
	names := make([]string, 0, len(users))
	for name, pw := range users {
		if err := CheckUserName(name); err != nil {
			return fmt.Errorf("sync samba users: user %q: %w", name, err)
		}
		if err := checkPassword(pw); err != nil {
			return fmt.Errorf("sync samba users: user %q: password %w", name, err)
		}
		names = append(names, name)
	}
	slices.Sort(names)

	for _, name := range slices.Concat([]string{serviceUser}, names) {
		if err := ensureUnixUser(ctx, r, name); err != nil {
			return err
		}
	}
	for _, name := range names {
		if err := setSambaPassword(ctx, r, conf, name, users[name]); err != nil {
			return err
		}
	}
	out, _, err := r.run(ctx, nil, "pdbedit", confArgs(conf, "-L")...)
	if err != nil {
		return fmt.Errorf("list samba users: %w", err)
	}
	existing, err := parsePdbeditList(out)
	if err != nil {
		return fmt.Errorf("list samba users: %w", err)
	}
	for _, name := range existing {
		// tdbsam looks names up case-insensitively: never remove the
		// account just set under a different spelling.
		if _, keep := users[strings.ToLower(name)]; keep {
			continue
		}
		if _, _, err := r.run(ctx, nil, "pdbedit", confArgs(conf, "-x", "-u", name)...); err != nil {
			return fmt.Errorf("remove samba user %q: %w", name, err)
		}
	}
	return nil
}

func checkPassword(pw string) error {
	switch {
	case pw == "":
		return errors.New("is empty")
	case len(pw) > maxPasswordBytes:
		return fmt.Errorf("is longer than %d bytes", maxPasswordBytes)
	case strings.ContainsAny(pw, "\r\n\x00"):
		// pdbedit reads the password as a line.
		return errors.New("contains a line break or NUL")
	}
	return nil
}

// ensureUnixUser creates a system account for name unless one exists.
func ensureUnixUser(ctx context.Context, r runner, name string) error {
	_, _, err := r.run(ctx, nil, "getent", "passwd", name)
	if err == nil {
		return nil
	}
	var te *ToolError
	if !errors.As(err, &te) || te.ExitCode() != 2 { // 2: key not found
		return fmt.Errorf("look up unix user %q: %w", name, err)
	}
	args := []string{"--system", "--no-create-home", "--shell", "/usr/sbin/nologin"}
	// useradd creates a group of the same name, and refuses to when one
	// exists already: join that group instead.
	_, _, err = r.run(ctx, nil, "getent", "group", name)
	switch {
	case err == nil:
		args = append(args, "--gid", name)
	case !errors.As(err, &te) || te.ExitCode() != 2:
		return fmt.Errorf("look up unix group %q: %w", name, err)
	}
	// useradd gives up at once when another process holds the lock on
	// /etc/passwd ("cannot lock /etc/passwd; try again later"): do so.
	for attempt := 1; ; attempt++ {
		_, _, err = r.run(ctx, nil, "useradd", append(args, name)...)
		if err == nil {
			return nil
		}
		if !errors.As(err, &te) || !strings.Contains(te.Stderr, "try again later") || attempt == useraddAttempts {
			return fmt.Errorf("create unix user %q: %w", name, err)
		}
		select {
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("create unix user %q: %w", name, ctx.Err())
		}
	}
}

// setSambaPassword adds the Samba account name or sets its password: the
// password, twice, on pdbedit's standard input.
func setSambaPassword(ctx context.Context, r runner, conf, name, pw string) error {
	stdin := []byte(pw + "\n" + pw + "\n")
	defer clear(stdin)
	_, _, err := r.run(ctx, stdin, "pdbedit", confArgs(conf, "-a", "-t", "-u", name)...)
	if err != nil {
		return fmt.Errorf("set samba password of %q: %w", name, redact(err, pw))
	}
	return nil
}

// redact removes a secret from a tool's error text, should a tool ever
// echo its input.
func redact(err error, secret string) error {
	var te *ToolError
	if secret == "" || !errors.As(err, &te) {
		return err
	}
	c := *te
	c.Stderr = strings.ReplaceAll(c.Stderr, secret, "********")
	if strings.Contains(c.Err.Error(), secret) {
		c.Err = errors.New(strings.ReplaceAll(c.Err.Error(), secret, "********"))
	}
	return &c
}

// pdbeditListLine is one line of `pdbedit -L`: name:uid:full name.
var pdbeditListLine = regexp.MustCompile(`^([^:\s]+):(-?[0-9]+):`)

// parsePdbeditList returns the account names in `pdbedit -L` output. A line
// it cannot read is an error: a missed account would keep its access.
func parsePdbeditList(out []byte) ([]string, error) {
	var names []string
	for i, l := range strings.Split(string(out), "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		m := pdbeditListLine.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("pdbedit -L line %d %q: not name:uid:full name", i+1, l)
		}
		names = append(names, m[1])
	}
	return names, nil
}
