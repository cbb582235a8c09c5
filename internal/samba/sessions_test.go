package samba

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The testdata files are described in status_test.go.
func TestParseClients(t *testing.T) {
	at := time.Date(2026, 11, 22, 0, 27, 46, 324845000, time.UTC)
	at2 := func(sec string) time.Time {
		t2, err := time.Parse(time.RFC3339Nano, "2026-12-07T20:28:"+sec+"Z")
		require.NoError(t, err)
		return t2
	}
	tests := []struct {
		file string
		want Clients
	}{
		{file: "smbstatus-idle.json", want: Clients{Sessions: []Session{}, OpenFiles: []OpenFile{}}},
		{file: "smbstatus-nolocking.json", want: Clients{Sessions: []Session{}, OpenFiles: []OpenFile{}}},
		{file: "smbstatus-open.json", want: Clients{
			Sessions: []Session{{User: "gstrw", Machine: "127.0.0.1", Remote: "127.0.0.1:39140", Dialect: "SMB3_11", Shares: []string{"media"}, ConnectedAt: at}},
			OpenFiles: []OpenFile{
				{SharePath: "/tmp/cap/share", Path: "b.mp3", Write: false},
				{SharePath: "/tmp/cap/share", Path: "sub dir/a.wav", Write: true},
			},
		}},
		{file: "smbstatus-write.json", want: Clients{
			Sessions: []Session{
				{User: "gsit-rw", Machine: "127.0.0.1", Remote: "127.0.0.1:51480", Dialect: "SMB3_11", Shares: []string{"media"}, ConnectedAt: at2("14.023017")},
				{User: "gsit-ro", Machine: "127.0.0.1", Remote: "127.0.0.1:51484", Dialect: "SMB3_11", Shares: []string{"media"}, ConnectedAt: at2("14.054772")},
				{User: "gsit-rw", Machine: "127.0.0.1", Remote: "127.0.0.1:51488", Dialect: "SMB3_11", Shares: []string{"media"}, ConnectedAt: at2("14.094755")},
			},
			OpenFiles: []OpenFile{
				{SharePath: "/tmp/TestSmbdIntegration2766232963/001/share", Path: "b.mp3", Write: false},
				{SharePath: "/tmp/TestSmbdIntegration2766232963/001/share", Path: "spots/a.mp3", Write: true},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			got, err := parseClients(out)
			require.NoError(t, err)
			for i := range got.Sessions {
				got.Sessions[i].ConnectedAt = got.Sessions[i].ConnectedAt.UTC()
			}
			for i := range got.OpenFiles {
				got.OpenFiles[i].Holders = nil // see TestParseSmbstatus
			}
			require.Equal(t, tt.want, got)
		})
	}
	_, err := parseClients([]byte(`{"sessions": {}}`))
	require.ErrorContains(t, err, "not smbstatus output")
}
