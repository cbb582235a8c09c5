package samba

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The testdata/smbstatus-*.json files are `smbstatus -s CONF --json` output
// of Samba 4.17.12-Debian: idle (a client has connected before), nolocking
// (no client ever connected: no open_files key), open (one client holding
// sub dir/a.wav open read-write and b.mp3 read-only), and write (taken by
// TestSmbdIntegration -capture-smbstatus: gsit-rw, logged on twice and
// naming its workstation STUDIO-PC the second time, writes spots/a.mp3
// over its second session; gsit-ro reads b.mp3). In the last two the opens'
// uid is the force user's, not the session's; the server_id links them.
func TestParseSmbstatus(t *testing.T) {
	local := func(s string) time.Time {
		at, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return at
	}
	const written = "/tmp/TestSmbdIntegration2766232963/001/share"
	tests := []struct {
		file string
		want []OpenFile
	}{
		{file: "smbstatus-idle.json", want: []OpenFile{}},
		{file: "smbstatus-nolocking.json", want: []OpenFile{}},
		{file: "smbstatus-open.json", want: []OpenFile{
			{SharePath: "/tmp/cap/share", Path: "b.mp3", Write: false, Holders: []Holder{
				{User: "gstrw", Machine: "127.0.0.1", Remote: "127.0.0.1:39140", OpenedAt: local("2026-11-22T00:27:46.337577+00:00")}}},
			{SharePath: "/tmp/cap/share", Path: "sub dir/a.wav", Write: true, Holders: []Holder{
				{User: "gstrw", Machine: "127.0.0.1", Remote: "127.0.0.1:39140", Write: true, OpenedAt: local("2026-11-22T00:27:46.337088+00:00")}}},
		}},
		{file: "smbstatus-write.json", want: []OpenFile{
			{SharePath: written, Path: "b.mp3", Write: false, Holders: []Holder{
				{User: "gsit-ro", Machine: "127.0.0.1", Remote: "127.0.0.1:51484", OpenedAt: local("2026-12-07T20:28:14.112561+00:00")}}},
			{SharePath: written, Path: "spots/a.mp3", Write: true, Holders: []Holder{
				{User: "gsit-rw", Machine: "127.0.0.1", Remote: "127.0.0.1:51488", Write: true, OpenedAt: local("2026-12-07T20:28:14.105503+00:00")}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			got, err := parseSmbstatus(out)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestParseSmbstatusHolders covers what the captures do not: several
// sessions served by one smbd process, told apart by the open's uid when
// it can be, and an open whose session is gone.
func TestParseSmbstatusHolders(t *testing.T) {
	const sessions = `"sessions": {
		"1": {"session_id": "1", "server_id": {"pid": "10", "unique_id": "7"}, "uid": 1001, "username": "anna", "remote_machine": "10.0.0.1", "hostname": "ipv4:10.0.0.1:50001"},
		"2": {"session_id": "2", "server_id": {"pid": "10", "unique_id": "7"}, "uid": 1002, "username": "ben", "remote_machine": "10.0.0.1", "hostname": "ipv4:10.0.0.1:50001"}}`
	open := func(pid string, uid int) string {
		return `{"version": "4.17", ` + sessions + `, "open_files": {"/s/a": {"service_path": "/s", "filename": "a", "opens": {
			"x": {"server_id": {"pid": "` + pid + `", "unique_id": "7"}, "uid": ` + strconv.Itoa(uid) + `, "access_mask": {"APPEND_DATA": true}}}}}}`
	}
	holder := func(user string) Holder {
		return Holder{User: user, Machine: "10.0.0.1", Remote: "10.0.0.1:50001", Write: true}
	}
	tests := []struct {
		name, out string
		want      []Holder
	}{
		{"the uid names the session", open("10", 1002), []Holder{holder("ben")}},
		{"a force user's uid names neither", open("10", 999), []Holder{holder("anna"), holder("ben")}},
		{"no session for the process", open("11", 1001), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSmbstatus([]byte(tt.out))
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.True(t, got[0].Write, "APPEND_DATA may write")
			require.Equal(t, tt.want, got[0].Holders)
		})
	}
}

func TestParseSmbstatusErrors(t *testing.T) {
	tests := []struct {
		name, out, want string
	}{
		{"not json", "smbstatus: unknown option --json\n", "parse smbstatus --json output"},
		{"empty", "", "parse smbstatus --json output"},
		{"not smbstatus", `{"open_files": {}}`, "no version field"},
		{"open file without path", `{"version": "4.17", "open_files": {"/x": {"opens": {}}}}`, `open file "/x": no service_path or filename`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSmbstatus([]byte(tt.out))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}
