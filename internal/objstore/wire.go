package objstore

import (
	"context"
	"net"
)

// WirePacer paces the bytes a store's connections move, so that transfers
// can yield the CPU and the network to other work on the box (playout:
// playout.Governor implements it). Every Write and Read of a connection
// moves at most Chunk bytes and waits for WaitN: before writing, after
// reading. A pacer that is not holding back returns a huge Chunk and
// does not wait.
type WirePacer interface {
	WaitN(ctx context.Context, n int) error
	Chunk() int
}

// pacedConn is a connection whose bytes go through a WirePacer. The
// pacer's waits are bounded by its rate and chunk, not by a context: a
// request that is cancelled closes its connection, which ends the next
// Read or Write.
type pacedConn struct {
	net.Conn
	p WirePacer
}

func (c pacedConn) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		k := min(len(b), c.p.Chunk())
		if err := c.p.WaitN(context.Background(), k); err != nil {
			return written, err
		}
		n, err := c.Conn.Write(b[:k])
		written += n
		if err != nil {
			return written, err
		}
		b = b[k:]
	}
	return written, nil
}

func (c pacedConn) Read(b []byte) (int, error) {
	if k := c.p.Chunk(); len(b) > k {
		b = b[:k]
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		if werr := c.p.WaitN(context.Background(), n); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}

// pacedDialer wraps dial so that every connection it makes is paced by p.
func pacedDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), p WirePacer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return pacedConn{Conn: c, p: p}, nil
	}
}
