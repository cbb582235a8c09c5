package harness

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Fault is what a FaultProxy does to the traffic it relays.
type Fault int

// Faults.
const (
	// Pass relays both ways untouched.
	Pass Fault = iota
	// Refuse closes the listening socket: new connections are refused
	// (ECONNREFUSED) and open ones are cut.
	Refuse
	// Blackhole accepts connections and reads what the client sends, but
	// relays nothing and answers nothing: requests time out. Open
	// connections stop relaying too.
	Blackhole
	// Slow relays with a delay on every chunk and a bandwidth cap.
	Slow
)

func (f Fault) String() string {
	return [...]string{"pass", "refuse", "blackhole", "slow"}[f]
}

// FaultProxy is a TCP proxy in front of a server (MinIO) that injects
// network faults on command: what an appliance meets when the uplink or
// the object store misbehaves. Its methods may be called from any
// goroutine; it is closed by t.Cleanup.
type FaultProxy struct {
	Addr   string // 127.0.0.1:PORT the client dials
	target string

	mu     sync.Mutex
	fault  Fault
	delay  time.Duration // per chunk, in Slow
	rate   int           // bytes per second and direction, in Slow
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// StartFaultProxy relays 127.0.0.1:<free port> to target (host:port).
func StartFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	p := &FaultProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fault proxy: %v", err)
	}
	p.Addr = ln.Addr().String()
	p.ln = ln
	p.wg.Add(1)
	go p.accept(ln)
	t.Cleanup(p.Close)
	return p
}

// Set switches the proxy to fault f. Slow uses delay per chunk and caps
// each direction at rate bytes per second (0: no cap).
func (p *FaultProxy) Set(t testing.TB, f Fault, delay time.Duration, rate int) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.fault
	p.fault, p.delay, p.rate = f, delay, rate
	switch {
	case f == Refuse && prev != Refuse:
		p.ln.Close()
		p.cutLocked()
	case f != Refuse && prev == Refuse:
		var ln net.Listener
		var err error
		for range 50 { // the port may linger briefly
			if ln, err = net.Listen("tcp", p.Addr); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("fault proxy: listen again on %s: %v", p.Addr, err)
		}
		p.ln = ln
		p.wg.Add(1)
		go p.accept(ln)
	}
}

// Cut closes every open connection (a reset mid-transfer); new ones are
// accepted as the current fault says.
func (p *FaultProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutLocked()
}

func (p *FaultProxy) cutLocked() {
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Close stops the proxy and cuts every connection.
func (p *FaultProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.ln.Close()
	p.cutLocked()
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *FaultProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *FaultProxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer p.forget(c)
	if p.current() == Blackhole {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer p.forget(up)
	done := make(chan struct{}, 2)
	go func() { p.relay(up, c); done <- struct{}{} }()
	go func() { p.relay(c, up); done <- struct{}{} }()
	<-done
	<-done
}

func (p *FaultProxy) forget(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *FaultProxy) current() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault
}

// relay copies src to dst chunk by chunk, applying the fault of the
// moment to each chunk: a connection opened before a fault suffers it too.
func (p *FaultProxy) relay(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			f, delay, rate := p.fault, p.delay, p.rate
			p.mu.Unlock()
			switch f {
			case Blackhole:
				continue // swallowed
			case Slow:
				time.Sleep(delay)
				if rate > 0 {
					time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				dst.Close()
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				// Reset or cut: the other direction must end too.
				src.Close()
				dst.Close()
				return
			}
			// A half-close: pass it on, let the other direction finish.
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}
