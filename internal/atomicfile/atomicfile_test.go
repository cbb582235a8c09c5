package atomicfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/layout"
	"genesissync/internal/scan"
)

// serviceUser is the owner files get in these tests: nobody when the
// tests run as root (they can chown), else -1 (leave as is).
func serviceUser() int {
	if os.Geteuid() == 0 {
		return 65534
	}
	return -1
}

// tempNames lists the layout.TempPrefix names under dir, share-relative.
func tempNames(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), layout.TempPrefix) {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func requireOwner(t *testing.T, p string, id int) {
	t.Helper()
	if id == -1 {
		return
	}
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	require.EqualValues(t, id, st.Uid, "uid of %s", p)
	require.EqualValues(t, id, st.Gid, "gid of %s", p)
}

// write creates rel in s, writes data and publishes it with check.
func write(s *Share, rel, data string, o Options, check func(*os.Root, string) error) error {
	f, err := s.Create(rel, o)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write([]byte(data)); err != nil {
		return err
	}
	return f.Publish(context.Background(), check)
}

func TestPublish(t *testing.T) {
	root := t.TempDir()
	owner := serviceUser()
	require.NoError(t, os.Mkdir(filepath.Join(root, "Music"), 0o750))
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	atime := time.Date(2024, 5, 6, 8, 0, 0, 0, time.UTC)
	s := New(root, owner, owner)

	rel := "Music/2024/May/song.mp3"
	f, err := s.Create(rel, Options{Mode: 0o640, Atime: atime, Mtime: mtime})
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Write([]byte("new song"))
	require.NoError(t, err)
	_, err = os.Lstat(filepath.Join(root, rel))
	require.ErrorIs(t, err, fs.ErrNotExist, "nothing at the target before Publish")
	require.Len(t, tempNames(t, root), 1)
	require.NoError(t, f.Publish(context.Background(), nil))

	p := filepath.Join(root, rel)
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	require.True(t, fi.ModTime().Equal(mtime), "mtime %s", fi.ModTime())
	require.EqualValues(t, atime.Unix(), fi.Sys().(*syscall.Stat_t).Atim.Sec, "atime, before anything reads the file")
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "new song", string(got))
	requireOwner(t, p, owner)
	published, err := f.OSFile().Stat()
	require.NoError(t, err)
	require.True(t, os.SameFile(fi, published), "OSFile is the published file")
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "a second Close is harmless")
	_, err = os.Lstat(p)
	require.NoError(t, err, "Close after Publish keeps the file")

	for _, d := range []string{"Music/2024", "Music/2024/May"} {
		fi, err := os.Lstat(filepath.Join(root, d))
		require.NoError(t, err)
		require.Equal(t, DirMode, fi.Mode().Perm(), d)
		requireOwner(t, filepath.Join(root, d), owner)
	}
	fi, err = os.Lstat(filepath.Join(root, "Music"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o750), fi.Mode().Perm(), "existing directories are left as they are")
	requireOwner(t, filepath.Join(root, "Music"), 0)
	require.Empty(t, tempNames(t, root))

	// Replacing: the old inode keeps its content for a reader that has it.
	old, err := os.Open(p)
	require.NoError(t, err)
	defer old.Close()
	require.NoError(t, write(s, rel, "newer song", Options{Mode: 0o664}, nil))
	got, err = os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "newer song", string(got))
	oldGot := make([]byte, 20)
	n, _ := old.Read(oldGot)
	require.Equal(t, "new song", string(oldGot[:n]))

	require.NoError(t, s.MkdirAll("Empty/Folder"))
	fi, err = os.Lstat(filepath.Join(root, "Empty/Folder"))
	require.NoError(t, err)
	require.True(t, fi.IsDir())
	require.Equal(t, DirMode, fi.Mode().Perm())
	requireOwner(t, filepath.Join(root, "Empty/Folder"), owner)
}

// TestTempGoneOnError: whatever stops a write before its rename (the
// writer failing, a refused verification, a cancelled context, a moved
// directory, a panic) leaves the target as it was and no temp file.
func TestTempGoneOnError(t *testing.T) {
	refused := errors.New("verification refused")
	for _, tc := range []struct {
		name string
		// run writes target (which holds "old") and returns the error.
		run  func(t *testing.T, s *Share, root, rel string) error
		want error
	}{
		{"the writer fails", func(t *testing.T, s *Share, root, rel string) error {
			f, err := s.Create(rel, Options{Mode: 0o664})
			require.NoError(t, err)
			defer f.Close()
			_, err = f.Write([]byte("half a"))
			require.NoError(t, err)
			return refused // as a failing body would: no Publish
		}, refused},
		{"verification fails", func(t *testing.T, s *Share, root, rel string) error {
			return write(s, rel, "corrupt", Options{Mode: 0o664}, func(dir *os.Root, base string) error {
				require.Len(t, tempNames(t, root), 1, "the check runs while the temp file is there")
				return refused
			})
		}, refused},
		{"context cancelled", func(t *testing.T, s *Share, root, rel string) error {
			f, err := s.Create(rel, Options{Mode: 0o664})
			require.NoError(t, err)
			defer f.Close()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return f.Publish(ctx, nil)
		}, context.Canceled},
		{"parent directory moved", func(t *testing.T, s *Share, root, rel string) error {
			f, err := s.Create(rel, Options{Mode: 0o664})
			require.NoError(t, err)
			defer f.Close()
			dir := filepath.Join(root, filepath.Dir(rel))
			require.NoError(t, os.Rename(dir, dir+"-old"))
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte("old"), 0o644))
			err = f.Publish(context.Background(), nil)
			entries, rerr := os.ReadDir(dir + "-old")
			require.NoError(t, rerr)
			require.Len(t, entries, 2, "the moved directory keeps its file and the temp file until Close")
			return err
		}, ErrLocalChanged},
		{"the writer panics", func(t *testing.T, s *Share, root, rel string) error {
			require.Panics(t, func() {
				f, err := s.Create(rel, Options{Mode: 0o664})
				require.NoError(t, err)
				defer f.Close()
				panic("writer exploded")
			})
			return refused
		}, refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			rel := "Studio/take.wav"
			require.NoError(t, os.Mkdir(filepath.Join(root, "Studio"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte("old"), 0o644))
			err := tc.run(t, New(root, -1, -1), root, rel)
			require.ErrorIs(t, err, tc.want)
			got, err := os.ReadFile(filepath.Join(root, rel))
			require.NoError(t, err)
			require.Equal(t, "old", string(got), "the target is untouched")
			require.Empty(t, tempNames(t, root), "no temp file is left")
		})
	}
}

// TestSymlinkRefused: no component of the path may be a symlink, whether
// it points outside the share or inside it, and a directory swapped for
// a symlink while the file is written stops the publish.
func TestSymlinkRefused(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	for _, d := range []string{"real", "deep"} {
		require.NoError(t, os.Mkdir(filepath.Join(root, d), 0o755))
	}
	// Link name in the share, and what it points to.
	links := [][2]string{
		{"out", outside},
		{"relout", "../" + filepath.Base(outside)},
		{"in", "real"},
		{"deep/out", outside},
	}
	s := New(root, -1, -1)
	for _, l := range links {
		require.NoError(t, os.Symlink(l[1], filepath.Join(root, l[0])))
		for _, rel := range []string{l[0] + "/x.mp3", l[0] + "/new/x.mp3"} {
			_, err := s.Create(rel, Options{Mode: 0o664})
			require.ErrorIs(t, err, ErrUnsafePath, rel)
			require.ErrorIs(t, s.MkdirAll(path.Dir(rel)), ErrUnsafePath, rel)
		}
	}

	t.Run("swapped for a symlink while writing", func(t *testing.T) {
		require.NoError(t, os.Mkdir(filepath.Join(root, "swap"), 0o755))
		f, err := s.Create("swap/x.mp3", Options{Mode: 0o664})
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, os.Rename(filepath.Join(root, "swap"), filepath.Join(root, "swapped")))
		require.NoError(t, os.Symlink(outside, filepath.Join(root, "swap")))
		require.ErrorIs(t, f.Publish(context.Background(), nil), ErrLocalChanged)
		require.NoError(t, f.Close())
	})

	t.Run("refused lexically", func(t *testing.T) {
		for _, rel := range []string{"../x", "/etc/x", "a/../../x", "", "a//b", "./x", "x\x00y",
			layout.TempPrefix + "1-x.mp3", "d/.GenesisSync-marker", ".GENESISSYNC-trash/x"} {
			require.ErrorIs(t, CheckPath(root, rel), ErrUnsafePath, "%q", rel)
			_, err := s.Create(rel, Options{Mode: 0o664})
			require.ErrorIs(t, err, ErrUnsafePath, "%q", rel)
		}
	})

	// Outside the share, and the in-share target of "in".
	for _, d := range []string{outside, filepath.Join(root, "real")} {
		entries, err := os.ReadDir(d)
		require.NoError(t, err)
		require.Empty(t, entries, "nothing may be written through a symlink into %s", d)
	}
	require.Empty(t, tempNames(t, root))
}

// TestDirectoryFsync: each directory a write creates is made durable in
// its parent, and the rename in the file's directory; a failing
// directory fsync after the rename leaves the file published and says so.
func TestDirectoryFsync(t *testing.T) {
	root := t.TempDir()
	var synced []string
	fail := error(nil)
	fsyncDir = func(d *os.File) error {
		fi, err := d.Stat()
		require.NoError(t, err)
		for _, p := range []string{".", "a", "a/b"} {
			if pfi, err := os.Stat(filepath.Join(root, p)); err == nil && os.SameFile(fi, pfi) {
				synced = append(synced, p)
			}
		}
		if fail != nil {
			return fail
		}
		return d.Sync()
	}
	t.Cleanup(func() { fsyncDir = func(d *os.File) error { return d.Sync() } })
	s := New(root, -1, -1)

	require.NoError(t, write(s, "a/b/c.mp3", "x", Options{Mode: 0o664}, nil))
	require.Equal(t, []string{".", "a", "a/b"}, synced, "the root for a, a for b, a/b for the rename")

	synced = nil
	require.NoError(t, write(s, "a/b/d.mp3", "y", Options{Mode: 0o664}, nil))
	require.Equal(t, []string{"a/b"}, synced, "existing directories: only the rename's")

	synced = nil
	fail = errors.New("disk gone")
	err := write(s, "a/b/e.mp3", "z", Options{Mode: 0o664}, nil)
	require.ErrorIs(t, err, fail)
	require.ErrorContains(t, err, "published, but")
	got, rerr := os.ReadFile(filepath.Join(root, "a/b/e.mp3"))
	require.NoError(t, rerr)
	require.Equal(t, "z", string(got))
	require.Empty(t, tempNames(t, root))
}

// crashDirEnv names the share the child process of
// TestCrashBetweenWriteAndRename writes into.
const crashDirEnv = "GENESISSYNC_ATOMICFILE_CRASH_DIR"

// TestCrashBetweenWriteAndRename kills (SIGKILL) a process that has
// written and fsynced two files but not renamed them: the share then holds
// only temp names, vetoed by Samba and excluded by the scanner, and the
// janitors remove them, the tagged one by its tag.
func TestCrashBetweenWriteAndRename(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		return
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBetweenWriteAndRename$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+root)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	require.Error(t, cmd.Wait(), "the child was killed")

	left := tempNames(t, root)
	require.Len(t, left, 2)
	excluded := scan.NewMatcher(config.DefaultExcludes)
	for _, rel := range left {
		require.True(t, strings.HasPrefix(rel, "Studio/"+layout.TempPrefix), rel)
		require.True(t, strings.HasPrefix(filepath.Base(rel), layout.ReservedPrefix), "vetoed by Samba: %s", rel)
		require.True(t, excluded.Excluded(rel), "excluded by the scanner: %s", rel)
	}
	entries, err := os.ReadDir(filepath.Join(root, "Studio"))
	require.NoError(t, err)
	require.Len(t, entries, 2, "nothing but the temp files: no target name")

	n, err := CleanTempTagged(root, "import-")
	require.NoError(t, err)
	require.Equal(t, 1, n, "the tagged leftover")
	n, err = CleanTemp(root)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the other one")
	require.Empty(t, tempNames(t, root))
}

// crashChild writes two files into dir up to their fsync, says so and
// waits to be killed.
func crashChild(dir string) {
	for i, s := range []*Share{New(dir, -1, -1), New(dir, -1, -1).WithTempTag("import-")} {
		f, err := s.Create(fmt.Sprintf("Studio/take%d.wav", i), Options{Mode: 0o664})
		if err == nil {
			_, err = f.Write([]byte("recorded"))
		}
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Hour) // until killed
}
