package samba

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePdbeditList(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    []string
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"one", "alice:1001:\n", []string{"alice"}, ""},
		{"several with full names", "alice:1001:Alice Smith\nbob:1002:\nsvc-x:999:Service: x\n", []string{"alice", "bob", "svc-x"}, ""},
		{"blank lines and CRLF", "\nalice:1001:\r\n\n", []string{"alice"}, ""},
		{"mixed case kept", "Alice:1001:\n", []string{"Alice"}, ""},
		{"garbage line", "alice:1001:\nsomething went wrong\n", nil, `line 2 "something went wrong"`},
		{"no uid", "alice::\n", nil, `line 1 "alice::"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePdbeditList([]byte(tt.out))
			if tt.wantErr != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// exitErr is an exit status, as *exec.ExitError reports it.
type exitErr int

func (e exitErr) Error() string { return "exit status " + strconv.Itoa(int(e)) }
func (e exitErr) ExitCode() int { return int(e) }

// fakeRunner records calls and answers from a script keyed by the command.
type fakeRunner struct {
	calls  []string
	stdins map[string]string
	// passwd holds the Unix accounts getent knows.
	passwd map[string]bool
	// group holds the Unix groups getent knows.
	group map[string]bool
	// list is pdbedit -L's output.
	list string
	// fail makes the command with this prefix fail with stderr, failTimes
	// times (0: always).
	fail, failStderr string
	failTimes        int
	failed           int
}

func (f *fakeRunner) run(_ context.Context, stdin []byte, tool string, args ...string) ([]byte, []byte, error) {
	cmd := strings.Join(append([]string{tool}, args...), " ")
	f.calls = append(f.calls, cmd)
	if stdin != nil {
		if f.stdins == nil {
			f.stdins = map[string]string{}
		}
		f.stdins[cmd] = string(stdin)
	}
	if f.fail != "" && strings.HasPrefix(cmd, f.fail) && (f.failTimes == 0 || f.failed < f.failTimes) {
		f.failed++
		return nil, []byte(f.failStderr), &ToolError{Tool: tool, Err: exitErr(1), Stderr: f.failStderr}
	}
	switch {
	case tool == "getent" && args[0] == "passwd":
		if f.passwd[args[1]] {
			return []byte(args[1] + ":x:999:999::/:/usr/sbin/nologin\n"), nil, nil
		}
		return nil, nil, &ToolError{Tool: tool, Err: exitErr(2)}
	case tool == "getent" && args[0] == "group":
		if f.group[args[1]] {
			return []byte(args[1] + ":x:999:\n"), nil, nil
		}
		return nil, nil, &ToolError{Tool: tool, Err: exitErr(2)}
	case tool == "useradd":
		f.passwd[args[len(args)-1]] = true
	case tool == "pdbedit" && slices.Contains(args, "-L"):
		return []byte(f.list), nil, nil
	}
	return nil, nil, nil
}

func TestSyncUsers(t *testing.T) {
	const conf = "/run/gs/smb.conf"
	f := &fakeRunner{
		passwd: map[string]bool{"alice": true},
		group:  map[string]bool{"bob": true},
		list:   "alice:1001:\nStale:1003:\nBOB:1002:\n",
	}
	users := map[string]string{"alice": "s3cret-a", "bob": "s3cret b"}
	require.NoError(t, syncUsers(context.Background(), f, "genesissync", users, conf))
	require.Equal(t, []string{
		"getent passwd genesissync",
		"getent group genesissync",
		"useradd --system --no-create-home --shell /usr/sbin/nologin genesissync",
		"getent passwd alice",
		"getent passwd bob",
		"getent group bob", // exists: joined rather than created
		"useradd --system --no-create-home --shell /usr/sbin/nologin --gid bob bob",
		"pdbedit -s " + conf + " -a -t -u alice",
		"pdbedit -s " + conf + " -a -t -u bob",
		"pdbedit -s " + conf + " -L",
		// BOB is bob to tdbsam: kept. Stale is removed.
		"pdbedit -s " + conf + " -x -u Stale",
	}, f.calls)
	require.Equal(t, "s3cret-a\ns3cret-a\n", f.stdins["pdbedit -s "+conf+" -a -t -u alice"])
	require.Equal(t, "s3cret b\ns3cret b\n", f.stdins["pdbedit -s "+conf+" -a -t -u bob"])
	for _, c := range f.calls {
		require.NotContains(t, c, "s3cret", "a password reached a command line")
	}
}

// An empty conf is the system smb.conf: no -s at all.
func TestSyncUsersSystemConf(t *testing.T) {
	f := &fakeRunner{passwd: map[string]bool{"gs": true, "alice": true}, list: "alice:1:\n"}
	require.NoError(t, syncUsers(context.Background(), f, "gs", map[string]string{"alice": "pw"}, ""))
	require.Equal(t, []string{
		"getent passwd gs",
		"getent passwd alice",
		"pdbedit -a -t -u alice",
		"pdbedit -L",
	}, f.calls)
}

func TestSyncUsersRetriesLockedPasswd(t *testing.T) {
	f := &fakeRunner{passwd: map[string]bool{}, fail: "useradd", failTimes: 2,
		failStderr: "useradd: cannot lock /etc/passwd; try again later."}
	require.NoError(t, syncUsers(context.Background(), f, "gs", nil, "/x/smb.conf"))
	require.Equal(t, 3, strings.Count(strings.Join(f.calls, "\n"), "useradd "))
	require.True(t, f.passwd["gs"])
}

func TestSyncUsersErrors(t *testing.T) {
	const conf = "/run/gs/smb.conf"
	tests := []struct {
		name        string
		service     string
		users       map[string]string
		conf        string
		fail        string
		failStderr  string
		want        string
		wantNoCalls bool
	}{
		{name: "bad service user", service: "root", users: nil, conf: conf, want: `service user "root"`, wantNoCalls: true},
		{name: "hostile user name", service: "gs", users: map[string]string{"a\nb": "pw"}, conf: conf, want: `user "a\nb": invalid user name`, wantNoCalls: true},
		{name: "empty password", service: "gs", users: map[string]string{"alice": ""}, conf: conf, want: `user "alice": password is empty`, wantNoCalls: true},
		{name: "password with newline", service: "gs", users: map[string]string{"alice": "pw\nroot"}, conf: conf, want: `user "alice": password contains a line break`, wantNoCalls: true},
		{name: "getent broken", service: "gs", conf: conf, fail: "getent passwd", failStderr: "nss broken", want: `look up unix user "gs": getent: exit status 1: nss broken`},
		{name: "getent group broken", service: "gs", conf: conf, fail: "getent group", failStderr: "nss broken", want: `look up unix group "gs": getent: exit status 1: nss broken`},
		{name: "useradd fails", service: "gs", conf: conf, fail: "useradd", failStderr: "useradd: cannot lock /etc/passwd", want: `create unix user "gs": useradd`},
		{name: "pdbedit echoes password", service: "gs", users: map[string]string{"alice": "hunter2-secret"}, conf: conf,
			fail: "pdbedit -s " + conf + " -a", failStderr: "bad password hunter2-secret", want: `set samba password of "alice": pdbedit: exit status 1: bad password ********`},
		{name: "pdbedit -x fails", service: "gs", users: map[string]string{"alice": "pw"}, conf: conf,
			fail: "pdbedit -s " + conf + " -x", failStderr: "tdb locked", want: `remove samba user "old": pdbedit: exit status 1: tdb locked`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{passwd: map[string]bool{"alice": true}, list: "alice:1:\nold:2:\n", fail: tt.fail, failStderr: tt.failStderr}
			if strings.HasPrefix(tt.fail, "useradd") {
				f.passwd = map[string]bool{}
			}
			err := syncUsers(context.Background(), f, tt.service, tt.users, tt.conf)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			for _, pw := range tt.users {
				if pw != "" {
					require.NotContains(t, err.Error(), pw)
				}
			}
			if tt.wantNoCalls {
				require.Empty(t, f.calls)
			}
		})
	}
}

func TestToolErrorExitCode(t *testing.T) {
	require.Equal(t, 2, (&ToolError{Tool: "getent", Err: exitErr(2)}).ExitCode())
	require.Equal(t, -1, (&ToolError{Tool: "getent", Err: errors.New("not found")}).ExitCode())
}
