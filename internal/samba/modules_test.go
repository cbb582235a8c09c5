package samba

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// smbdB is what Debian 12's smbd -b prints around the lines that count.
const smbdB = `Build environment:
   Built by:    debian@buildd
Paths:
   SBINDIR: /usr/sbin
   MODULESDIR: /usr/lib/x86_64-linux-gnu/samba
   LOCKDIR: /var/run/samba
Builtin modules:
   vfs_default vfs_not_implemented vfs_posixacl auth_builtin
   pdb_tdbsam

Cluster support features:
   NONE
`

type answerRunner struct{ out string }

func (a answerRunner) run(context.Context, []byte, string, ...string) ([]byte, []byte, error) {
	return []byte(a.out), nil, nil
}

func TestCheckVFSModules(t *testing.T) {
	conf := []byte(`[global]
   vfs objects =
[studio]
   path = /tank/studio
   vfs objects = shadow_copy2
[news]
   vfs objects = shadow_copy2, posixacl
[archive]
   VFS Objects = catia
`)
	const dir = "/usr/lib/x86_64-linux-gnu/samba/vfs"
	tests := []struct {
		name    string
		present []string
		want    []MissingModule
	}{
		{"all there", []string{"shadow_copy2.so", "catia.so"}, nil},
		{"samba-vfs-modules missing", nil, []MissingModule{
			{Module: "catia", Shares: []string{"archive"}, Dir: dir},
			{Module: "shadow_copy2", Shares: []string{"studio", "news"}, Dir: dir},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exists := func(p string) bool {
				for _, f := range tc.present {
					if p == filepath.Join(dir, f) {
						return true
					}
				}
				return false
			}
			got, err := checkVFSModules(context.Background(), answerRunner{smbdB}, conf, exists)
			require.NoError(t, err)
			require.Equal(t, tc.want, got, "posixacl is built in")
		})
	}

	got, err := checkVFSModules(context.Background(), answerRunner{"no paths here"}, conf, func(string) bool { return true })
	require.ErrorContains(t, err, "MODULESDIR")
	require.Nil(t, got)

	got, err = checkVFSModules(context.Background(), nil, []byte("[s]\n vfs objects =\n"), nil)
	require.NoError(t, err, "nothing named: smbd is not asked")
	require.Nil(t, got)

	msg := MissingModule{Module: "shadow_copy2", Shares: []string{"studio"}, Dir: dir}.String()
	require.Contains(t, msg, "apt install samba-vfs-modules")
	require.Contains(t, msg, "does not serve share(s) studio")
}

// TestCheckVFSModulesOnThisHost asks the real smbd: task setup installs
// samba-vfs-modules, so shadow_copy2 must be found.
func TestCheckVFSModulesOnThisHost(t *testing.T) {
	if _, err := exec.LookPath("smbd"); err != nil {
		t.Fatalf("smbd not installed (run go tool task setup): %v", err)
	}
	got, err := CheckVFSModules(context.Background(), []byte("[studio]\n vfs objects = shadow_copy2\n"))
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = CheckVFSModules(context.Background(), []byte("[studio]\n vfs objects = no_such_module_xyz\n"))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "no_such_module_xyz", got[0].Module)
}
