package samba

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hirochachacha/go-smb2"
)

// probeTimeout bounds Probe when ctx has no deadline.
const probeTimeout = 15 * time.Second

// Steps of an SMB connection, as reported in ProbeError.
const (
	StepDial  = "dial"
	StepLogOn = "log on"
	StepMount = "mount"
	StepList  = "list root"
)

// ProbeError says which step of reaching a share as a client failed.
type ProbeError struct {
	Addr, Share, User string
	// Step is StepDial, StepLogOn, StepMount or StepList.
	Step string
	Err  error
}

func (e *ProbeError) Error() string {
	return fmt.Sprintf("smb share %q on %s as %q: %s: %v", e.Share, e.Addr, e.User, e.Step, e.Err)
}

func (e *ProbeError) Unwrap() error { return e.Err }

// Client is one SMB2/3 session to one mounted share, for probes and tests.
// The embedded *smb2.Share gives file access (ReadDir, ReadFile, WriteFile,
// OpenFile, ...). A Client is not safe for concurrent use; the caller owns it
// and must Close it.
type Client struct {
	*smb2.Share
	session *smb2.Session
	conn    net.Conn
	closed  bool
}

// Connect dials addr (host:port), logs on with NTLM as user and mounts
// share, as a Windows client mapping a drive would. ctx bounds the
// connection and is kept for the share's operations. A failure is a
// *ProbeError naming the step.
func Connect(ctx context.Context, addr, share, user, password string) (*Client, error) {
	fail := func(step string, err error) error {
		return &ProbeError{Addr: addr, Share: share, User: user, Step: step, Err: err}
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fail(StepDial, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fail(StepDial, err)
	}
	if d, ok := ctx.Deadline(); ok {
		// A server that accepts but never answers must not hang the log on.
		_ = conn.SetDeadline(d)
	}
	sd := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{User: user, Password: password}}
	sess, err := sd.DialContext(ctx, conn)
	if err != nil {
		_ = conn.Close()
		return nil, fail(StepLogOn, err)
	}
	sess = sess.WithContext(ctx)
	fs, err := sess.Mount(`\\` + host + `\` + share)
	if err != nil {
		_ = sess.Logoff()
		_ = conn.Close()
		return nil, fail(StepMount, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return &Client{Share: fs.WithContext(ctx), session: sess, conn: conn}, nil
}

// Close unmounts the share, logs off and closes the connection. Closing
// twice is a no-op (go-smb2 would wait forever for a reply on the closed
// connection).
func (c *Client) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	err := errors.Join(c.Umount(), c.session.Logoff())
	// Logoff closes the connection itself.
	if cerr := c.conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close smb connection: %w", err)
	}
	return nil
}

// ShareNames lists the server's shares through the srvsvc pipe, as
// Explorer's network view does. On smbd this starts samba-dcerpcd on demand.
func (c *Client) ShareNames() ([]string, error) {
	names, err := c.session.ListSharenames()
	if err != nil {
		return nil, fmt.Errorf("list smb shares: %w", err)
	}
	return names, nil
}

// Probe checks a share end to end as a client: dial addr, NTLM log on as
// user, mount share and list its root. The error is a *ProbeError that
// names the failed step. Probe takes at most 15 s unless ctx says
// otherwise. Safe for concurrent use.
func Probe(ctx context.Context, addr, share, user, password string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, probeTimeout)
		defer cancel()
	}
	c, err := Connect(ctx, addr, share, user, password)
	if err != nil {
		return err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(d) // a server that stops answering must not hang the probe
	}
	if _, err := c.ReadDir(""); err != nil {
		return &ProbeError{Addr: addr, Share: share, User: user, Step: StepList, Err: err}
	}
	return nil
}
