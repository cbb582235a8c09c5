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
	tests := []struct {
		file string
		want Clients
	}{
		{file: "smbstatus-idle.json", want: Clients{Sessions: []Session{}, OpenFiles: []OpenFile{}}},
		{file: "smbstatus-nolocking.json", want: Clients{Sessions: []Session{}, OpenFiles: []OpenFile{}}},
		{file: "smbstatus-open.json", want: Clients{
			Sessions: []Session{{User: "gstrw", Machine: "127.0.0.1", Dialect: "SMB3_11", Shares: []string{"media"}, ConnectedAt: at}},
			OpenFiles: []OpenFile{
				{SharePath: "/tmp/cap/share", Path: "b.mp3", Write: false},
				{SharePath: "/tmp/cap/share", Path: "sub dir/a.wav", Write: true},
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
			require.Equal(t, tt.want, got)
		})
	}
	_, err := parseClients([]byte(`{"sessions": {}}`))
	require.ErrorContains(t, err, "not smbstatus output")
}
