package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

// Client talks to a running daemon's admin socket, for the CLI. Safe for
// concurrent use.
type Client struct {
	c http.Client
}

// NewClient returns a client for the daemon whose state directory is
// stateDir.
func NewClient(stateDir string) *Client {
	path := Socket(stateDir)
	return &Client{c: http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dd net.Dialer
			return dd.DialContext(ctx, "unix", path)
		}},
	}}
}

// Running tells whether a daemon answers on the socket under stateDir.
func Running(stateDir string) bool {
	c, err := net.DialTimeout("unix", Socket(stateDir), 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func sharePath(share string, rest ...string) string {
	p := "/v1/shares/" + url.PathEscape(share)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// Tripwire returns the share's ransomware tripwire; nil when it is off.
func (a *Client) Tripwire(ctx context.Context, share string) (*reconcile.TripwireStatus, error) {
	var tw *reconcile.TripwireStatus
	return tw, a.getJSON(ctx, sharePath(share, "tripwire"), &tw)
}

// ReleaseTripwire lets the share's held changes through and returns what
// the daemon did.
func (a *Client) ReleaseTripwire(ctx context.Context, share string) (string, error) {
	body, err := a.do(ctx, http.MethodPost, sharePath(share, "tripwire", "release"))
	if err != nil {
		return "", err
	}
	var res struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("tripwire release: %w", err)
	}
	return res.Message, nil
}

// RestoreBeforeTrip starts the share's restore from before the trip and
// returns the job's id and what it does.
func (a *Client) RestoreBeforeTrip(ctx context.Context, share string) (id, msg string, err error) {
	body, err := a.do(ctx, http.MethodPost, sharePath(share, "tripwire", "restore"))
	if err != nil {
		return "", "", err
	}
	var res struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", "", fmt.Errorf("tripwire restore: %w", err)
	}
	return res.ID, res.Message, nil
}

// Deletes returns the share's held delete batch.
func (a *Client) Deletes(ctx context.Context, share string) (reconcile.DeleteBatch, error) {
	var b reconcile.DeleteBatch
	return b, a.getJSON(ctx, sharePath(share, "deletes"), &b)
}

// Approve releases the share's tripped batch id.
func (a *Client) Approve(ctx context.Context, share, id string) error {
	_, err := a.do(ctx, http.MethodPost, sharePath(share, "deletes", "approve")+"?batch="+url.QueryEscape(id))
	return err
}

// ShareAction asks the daemon to pause, resume or sync (a full scan now)
// the share.
func (a *Client) ShareAction(ctx context.Context, share, verb string) error {
	_, err := a.do(ctx, http.MethodPost, sharePath(share, verb))
	return err
}

// TestAlert sends a test alert through every configured channel.
func (a *Client) TestAlert(ctx context.Context) error {
	_, err := a.do(ctx, http.MethodPost, "/v1/alerts/test")
	return err
}

// Snapshots lists the share's snapshots, oldest first.
func (a *Client) Snapshots(ctx context.Context, share string) (SnapshotList, error) {
	var l SnapshotList
	return l, a.getJSON(ctx, sharePath(share, "snapshots"), &l)
}

// CreateSnapshot takes a snapshot of the share now and returns its name.
func (a *Client) CreateSnapshot(ctx context.Context, share string) (string, error) {
	body, err := a.do(ctx, http.MethodPost, sharePath(share, "snapshots"))
	if err != nil {
		return "", err
	}
	var v struct{ Name string }
	return v.Name, json.Unmarshal(body, &v)
}

// PruneSnapshots prunes the share's snapshots by its retention now.
func (a *Client) PruneSnapshots(ctx context.Context, share string) (PruneResult, error) {
	var p PruneResult
	body, err := a.do(ctx, http.MethodPost, sharePath(share, "snapshots", "prune"))
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(body, &p)
}

// Rollback rolls the share back to snap through the daemon; destroyNewer
// allows destroying newer snapshots.
func (a *Client) Rollback(ctx context.Context, share, snap string, destroyNewer bool) error {
	q := ""
	if destroyNewer {
		q = "?destroy_newer=1"
	}
	_, err := a.do(ctx, http.MethodPost, sharePath(share, "snapshots", url.PathEscape(snap), "rollback")+q)
	return err
}

// StartVerify starts a verify job and returns its id. samplePercent 0
// checks every file.
func (a *Client) StartVerify(ctx context.Context, share string, deep bool, samplePercent float64) (string, error) {
	q := url.Values{"deep": {strconv.FormatBool(deep)}, "sample": {strconv.FormatFloat(samplePercent, 'f', -1, 64)}}
	return a.startJob(ctx, sharePath(share, jobs.Verify)+"?"+q.Encode())
}

// StartRestore starts a restore into the running daemon's live share.
func (a *Client) StartRestore(ctx context.Context, share string, req RestoreRequest) (string, error) {
	q := url.Values{"path": {req.Path}, "prefix": {req.Prefix}, "glob": {req.Glob},
		"overwrite": {strconv.FormatBool(req.Overwrite)}, "dry_run": {strconv.FormatBool(req.DryRun)}}
	if !req.At.IsZero() {
		q.Set("at", req.At.UTC().Format(time.RFC3339Nano))
	}
	return a.startJob(ctx, sharePath(share, jobs.Restore)+"?"+q.Encode())
}

func (a *Client) startJob(ctx context.Context, path string) (string, error) {
	body, err := a.do(ctx, http.MethodPost, path)
	if err != nil {
		return "", err
	}
	var out struct{ ID string }
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		return "", errors.Join(errors.New("daemon: start job: no job id in the answer"), err)
	}
	return out.ID, nil
}

// Job returns a verify or restore job's state.
func (a *Client) Job(ctx context.Context, share, kind, id string) (jobs.Job, error) {
	var st jobs.Job
	return st, a.getJSON(ctx, sharePath(share, kind, url.PathEscape(id)), &st)
}

// VerifyStatus returns the share's verify state; it also tells whether
// a daemon answers on the socket.
func (a *Client) VerifyStatus(ctx context.Context, share string) (model.Verify, error) {
	var v model.Verify
	return v, a.getJSON(ctx, sharePath(share, jobs.Verify), &v)
}

func (a *Client) getJSON(ctx context.Context, path string, v any) error {
	body, err := a.do(ctx, http.MethodGet, path)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

func (a *Client) do(ctx context.Context, method, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://admin"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("daemon admin socket: %w (is the daemon running?)", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("daemon: %s: %s", resp.Status, body)
	}
	return body, nil
}
