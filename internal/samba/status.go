package samba

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
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
	// Holders are the sessions behind the opens, one per open and session,
	// sorted by open time. An open whose smbd process lists no session
	// (the client logged off between smbstatus's reads) has none.
	Holders []Holder
}

// Holder is the client session behind one open of a file. It is a plain
// value; any goroutine may read it.
type Holder struct {
	User string // the account the client logged on as
	// Machine is the client as smbd names it: its address, or its DNS name
	// when smb.conf turns hostname lookups on.
	Machine string
	// Remote is the client end of the connection, host:port
	// ("127.0.0.1:39140"); empty when smbd did not say.
	Remote string
	// Write is true when this open may write data to the file.
	Write    bool
	OpenedAt time.Time
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
//
// An open names the smbd process that serves it (server_id) and the Unix
// uid it runs as; a session names its smbd process too. With a share's
// force user the open's uid is the service account's, not the session's,
// so the server_id is the link; the uid only tells apart several sessions
// that one process serves, when it can.
type smbstatusJSON struct {
	Version  string `json:"version"`
	Sessions map[string]struct {
		SessionID     string   `json:"session_id"`
		ServerID      serverID `json:"server_id"`
		UID           int64    `json:"uid"`
		Username      string   `json:"username"`
		RemoteMachine string   `json:"remote_machine"`
		Hostname      string   `json:"hostname"` // "ipv4:127.0.0.1:39140"
		Dialect       string   `json:"session_dialect"`
		Encryption    struct {
			Degree string `json:"degree"`
		} `json:"encryption"`
	} `json:"sessions"`
	Tcons map[string]struct {
		Service     string `json:"service"`
		SessionID   string `json:"session_id"`
		ConnectedAt string `json:"connected_at"`
	} `json:"tcons"`
	OpenFiles map[string]struct {
		ServicePath string `json:"service_path"`
		Filename    string `json:"filename"`
		Opens       map[string]struct {
			ServerID   serverID `json:"server_id"`
			UID        int64    `json:"uid"`
			AccessMask struct {
				WriteData  bool `json:"WRITE_DATA"`
				AppendData bool `json:"APPEND_DATA"`
			} `json:"access_mask"`
			OpenedAt string `json:"opened_at"`
		} `json:"opens"`
	} `json:"open_files"`
}

// serverID names one smbd process (in a cluster, on one node).
type serverID struct {
	PID      string `json:"pid"`
	TaskID   string `json:"task_id"`
	VNN      string `json:"vnn"`
	UniqueID string `json:"unique_id"`
}

func decodeSmbstatus(out []byte) (smbstatusJSON, error) {
	var st smbstatusJSON
	if err := json.Unmarshal(out, &st); err != nil {
		return smbstatusJSON{}, fmt.Errorf("parse smbstatus --json output: %w", err)
	}
	if st.Version == "" {
		return smbstatusJSON{}, fmt.Errorf("parse smbstatus --json output: no version field: not smbstatus output")
	}
	return st, nil
}

func parseSmbstatus(out []byte) ([]OpenFile, error) {
	st, err := decodeSmbstatus(out)
	if err != nil {
		return nil, err
	}
	return st.openFiles()
}

// openFiles lists the open files, each with the sessions that hold it.
func (st smbstatusJSON) openFiles() ([]OpenFile, error) {
	type session struct {
		uid int64
		Holder
	}
	byServer := map[serverID][]session{}
	for _, s := range st.Sessions {
		byServer[s.ServerID] = append(byServer[s.ServerID], session{uid: s.UID,
			Holder: Holder{User: s.Username, Machine: s.RemoteMachine, Remote: remoteAddr(s.Hostname)}})
	}
	files := make([]OpenFile, 0, len(st.OpenFiles))
	for key, f := range st.OpenFiles {
		if f.ServicePath == "" || f.Filename == "" {
			return nil, fmt.Errorf("parse smbstatus --json output: open file %q: no service_path or filename", key)
		}
		of := OpenFile{SharePath: f.ServicePath, Path: f.Filename}
		for _, o := range f.Opens {
			write := o.AccessMask.WriteData || o.AccessMask.AppendData
			of.Write = of.Write || write
			opened, _ := time.Parse(time.RFC3339Nano, o.OpenedAt)
			holders := byServer[o.ServerID]
			if len(holders) > 1 {
				// Several logons over one connection: the uid tells them
				// apart unless a force user made it the same for all.
				same := slices.DeleteFunc(slices.Clone(holders), func(s session) bool { return s.uid != o.UID })
				if len(same) > 0 {
					holders = same
				}
			}
			for _, s := range holders {
				h := s.Holder
				h.Write, h.OpenedAt = write, opened
				of.Holders = append(of.Holders, h)
			}
		}
		slices.SortFunc(of.Holders, func(a, b Holder) int {
			return cmp.Or(a.OpenedAt.Compare(b.OpenedAt), cmp.Compare(a.User, b.User), cmp.Compare(a.Machine, b.Machine), cmp.Compare(a.Remote, b.Remote))
		})
		files = append(files, of)
	}
	slices.SortFunc(files, func(a, b OpenFile) int {
		return cmp.Or(cmp.Compare(a.SharePath, b.SharePath), cmp.Compare(a.Path, b.Path))
	})
	return files, nil
}

// remoteAddr turns smbd's tsocket address ("ipv4:127.0.0.1:39140",
// "ipv6:fd00::7:49152") into host:port; anything else is kept as it is.
func remoteAddr(s string) string {
	family, rest, ok := strings.Cut(s, ":")
	if !ok || (family != "ipv4" && family != "ipv6") {
		return s
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return s
	}
	return net.JoinHostPort(rest[:i], rest[i+1:])
}
