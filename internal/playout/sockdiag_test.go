package playout

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSentBytes serves 4 MiB over a real loopback connection and checks
// that the kernel's count for the server side covers it, and that only
// sockets whose local port is the server's are counted.
func TestSentBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	before, err := SentBytes([]int{port})
	require.NoError(t, err)
	require.Empty(t, before, "no connection yet")

	const size = 4 << 20
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		_, err = c.Write(make([]byte, size))
		served <- err
		_, _ = io.Copy(io.Discard, c) // keep it established until the client closes
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = io.ReadFull(c, make([]byte, size))
	require.NoError(t, err)
	require.NoError(t, <-served)

	after, err := SentBytes([]int{port})
	require.NoError(t, err)
	require.Len(t, after, 1, "the server side only")
	for _, n := range after {
		require.GreaterOrEqual(t, n, int64(size))
	}

	client := c.LocalAddr().(*net.TCPAddr).Port
	other, err := SentBytes([]int{client})
	require.NoError(t, err)
	require.Len(t, other, 1)
	for _, n := range other {
		require.Less(t, n, int64(size), "the client sent nothing but ACKs")
	}
}
