package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"genesissync/internal/index"
	"genesissync/internal/layout"
)

// errRootUnhealthy marks work refused because the share root failed its
// health check.
var errRootUnhealthy = errors.New("share root unhealthy")

// shareRoot is the health check of a share's root, asked before every
// scan, download and delete: nothing is deleted or written in a root
// that is not the share. Safe for concurrent use.
type shareRoot struct {
	path  string
	share string                          // the share's name, written into the marker
	check func(ctx context.Context) error // Options.RootCheck; nil: none
	index *index.Share
	log   zerolog.Logger
}

// ok verifies that the root is the share: a directory holding the marker
// (and passing check). With nothing tracked it writes the marker; later a
// missing marker means an unmounted dataset or a wrong path.
func (r *shareRoot) ok(ctx context.Context) error {
	if r.check != nil {
		if err := r.check(ctx); err != nil {
			return fmt.Errorf("%w: %v", errRootUnhealthy, err)
		}
	}
	fi, err := os.Stat(r.path)
	if err != nil {
		return fmt.Errorf("%w: %v", errRootUnhealthy, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", errRootUnhealthy, r.path)
	}
	marker := filepath.Join(r.path, layout.ShareMarker)
	if _, err := os.Lstat(marker); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %v", errRootUnhealthy, err)
	}
	empty, err := r.index.Empty()
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("%w: marker %s is missing while files are tracked: is the dataset mounted?", errRootUnhealthy, marker)
	}
	data := fmt.Sprintf("GenesisSync share %q. This file proves the share is mounted; do not delete it.\n", r.share)
	if err := os.WriteFile(marker, []byte(data), 0o444); err != nil {
		return fmt.Errorf("%w: write marker: %v", errRootUnhealthy, err)
	}
	r.log.Info().Str("marker", marker).Msg("share marker written (first start)")
	return nil
}
