package daemon

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
)

// startAlerts starts the alert rules over the daemon's snapshots in g.
func (d *Daemon) startAlerts(ctx context.Context, g *errgroup.Group) error { return nil }

// testAlert sends a test notice to every configured alert channel.
func (d *Daemon) testAlert(ctx context.Context) error {
	return errors.New("alerts are not implemented yet")
}
