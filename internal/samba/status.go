package samba

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// OpenFile is a file or directory that an SMB client holds open. It is a
// plain value; any goroutine may read it.
type OpenFile struct {
	// SharePath is the share's local directory (Samba's service path).
	SharePath string
	// Path is relative to SharePath, slash-separated, as Samba names it;
	// "." is the share's root directory.
	Path string
	// Write is true when any open of the file may write data to it.
	Write bool
}

// OpenFiles lists the files SMB clients hold open, from
// `smbstatus -s CONF --json` (Samba 4.16 and later), sorted by share path and
// path. An empty conf means the system smb.conf (appliance mode). Safe for
// concurrent use.
func OpenFiles(ctx context.Context, conf string) ([]OpenFile, error) {
	out, _, err := (execRunner{}).run(ctx, nil, "smbstatus", confArgs(conf, "--json")...)
	if err != nil {
		return nil, fmt.Errorf("list open smb files: %w", err)
	}
	files, err := parseSmbstatus(out)
	if err != nil {
		return nil, fmt.Errorf("list open smb files: %w", err)
	}
	return files, nil
}

// smbstatusJSON is the part of `smbstatus --json` read here. open_files is
// absent until a client has ever connected (no locking.tdb yet).
type smbstatusJSON struct {
	Version   string `json:"version"`
	OpenFiles map[string]struct {
		ServicePath string `json:"service_path"`
		Filename    string `json:"filename"`
		Opens       map[string]struct {
			AccessMask struct {
				WriteData  bool `json:"WRITE_DATA"`
				AppendData bool `json:"APPEND_DATA"`
			} `json:"access_mask"`
		} `json:"opens"`
	} `json:"open_files"`
}

func parseSmbstatus(out []byte) ([]OpenFile, error) {
	var st smbstatusJSON
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("parse smbstatus --json output: %w", err)
	}
	if st.Version == "" {
		return nil, fmt.Errorf("parse smbstatus --json output: no version field: not smbstatus output")
	}
	files := make([]OpenFile, 0, len(st.OpenFiles))
	for key, f := range st.OpenFiles {
		if f.ServicePath == "" || f.Filename == "" {
			return nil, fmt.Errorf("parse smbstatus --json output: open file %q: no service_path or filename", key)
		}
		of := OpenFile{SharePath: f.ServicePath, Path: f.Filename}
		for _, o := range f.Opens {
			if o.AccessMask.WriteData || o.AccessMask.AppendData {
				of.Write = true
			}
		}
		files = append(files, of)
	}
	slices.SortFunc(files, func(a, b OpenFile) int {
		return cmp.Or(cmp.Compare(a.SharePath, b.SharePath), cmp.Compare(a.Path, b.Path))
	})
	return files, nil
}
