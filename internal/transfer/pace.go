package transfer

import (
	"context"
	"io"
	"math"
)

// Pacer lets transfers yield to other work on the box, such as playout
// (playout.Governor). Acquire is called before a transfer and its release
// after; each hash-pass read is at most Chunk bytes, followed by WaitN.
// The store paces the wire with the same pacer, so an upload counts twice
// (hashed, sent). A pacer not holding back answers at once.
type Pacer interface {
	Acquire(ctx context.Context) (release func(), err error)
	WaitN(ctx context.Context, n int) error
	Chunk() int
}

// noPacer is the Pacer of a transfer nobody paces.
type noPacer struct{}

func (noPacer) Acquire(context.Context) (func(), error) { return func() {}, nil }
func (noPacer) WaitN(context.Context, int) error        { return nil }
func (noPacer) Chunk() int                              { return math.MaxInt }

// pacedReader reads r in chunks no larger than the pacer allows and waits
// for the pacer after each read.
type pacedReader struct {
	ctx   context.Context
	r     io.Reader
	pacer Pacer
}

func (p pacedReader) Read(b []byte) (int, error) {
	if c := p.pacer.Chunk(); len(b) > c {
		b = b[:c]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		if werr := p.pacer.WaitN(p.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
