package samba

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// WriteInclude atomically replaces the file at path with data, mode 0644
// (a temp file in the same directory, fsync, rename, fsync of the
// directory), so that smbd never reads half a file. It writes appliance
// mode's include and the standalone smb.conf (Global.ConfigPath). Callers
// must not write the same path from two goroutines at once.
func WriteInclude(path string, data []byte) error {
	if err := writeAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("write samba include %s: %w", path, err)
	}
	return nil
}

func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ReloadSystem asks the system smbd (appliance mode) to re-read its
// configuration: `smbcontrol smbd reload-config`. Safe for concurrent use.
func ReloadSystem(ctx context.Context) error {
	if _, _, err := (execRunner{}).run(ctx, nil, "smbcontrol", "smbd", "reload-config"); err != nil {
		return fmt.Errorf("reload system smbd: %w", err)
	}
	return nil
}
