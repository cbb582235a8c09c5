package samba

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Session is one SMB client logged on to smbd. It is a plain value; any
// goroutine may read it.
type Session struct {
	User    string
	Machine string // the client's address, as smbd saw it
	// Remote is the client end of the connection, host:port; empty when
	// smbd did not say.
	Remote  string
	Dialect string // e.g. SMB3_11
	// Shares are the share names the session has connected to, sorted.
	Shares []string
	// ConnectedAt is the earliest of its tree connects; zero without one.
	ConnectedAt time.Time
	// Encrypted is true when the session encrypts its traffic.
	Encrypted bool
}

// Clients is what smbd reports about its clients at one moment.
type Clients struct {
	Sessions  []Session
	OpenFiles []OpenFile
}

// ListClients lists the SMB sessions and the files they hold open, from
// one `smbstatus -s CONF --json` (Samba 4.16 and later). An empty conf
// means the system smb.conf. Safe for concurrent use.
func ListClients(ctx context.Context, conf string) (Clients, error) {
	out, _, err := (execRunner{}).run(ctx, nil, "smbstatus", confArgs(conf, "--json")...)
	if err != nil {
		return Clients{}, fmt.Errorf("list smb clients: %w", err)
	}
	c, err := parseClients(out)
	if err != nil {
		return Clients{}, fmt.Errorf("list smb clients: %w", err)
	}
	return c, nil
}

func parseClients(out []byte) (Clients, error) {
	st, err := decodeSmbstatus(out)
	if err != nil {
		return Clients{}, err
	}
	files, err := st.openFiles()
	if err != nil {
		return Clients{}, err
	}
	sessions := make([]Session, 0, len(st.Sessions))
	index := map[string]int{} // session id -> position in sessions
	for key, s := range st.Sessions {
		index[cmp.Or(s.SessionID, key)] = len(sessions)
		sessions = append(sessions, Session{
			User: s.Username, Machine: s.RemoteMachine, Remote: remoteAddr(s.Hostname), Dialect: s.Dialect,
			Encrypted: s.Encryption.Degree != "" && s.Encryption.Degree != "none",
		})
	}
	for _, tc := range st.Tcons {
		i, ok := index[tc.SessionID]
		if !ok {
			continue
		}
		s := &sessions[i]
		if !slices.Contains(s.Shares, tc.Service) {
			s.Shares = append(s.Shares, tc.Service)
		}
		if at, err := time.Parse(time.RFC3339Nano, tc.ConnectedAt); err == nil && (s.ConnectedAt.IsZero() || at.Before(s.ConnectedAt)) {
			s.ConnectedAt = at
		}
	}
	for i := range sessions {
		slices.Sort(sessions[i].Shares)
	}
	slices.SortFunc(sessions, func(a, b Session) int {
		return cmp.Or(a.ConnectedAt.Compare(b.ConnectedAt), cmp.Compare(a.User, b.User), cmp.Compare(a.Machine, b.Machine))
	})
	return Clients{Sessions: sessions, OpenFiles: files}, nil
}
