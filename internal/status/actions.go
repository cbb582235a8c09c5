package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Admin action kinds: the last path element of
// POST /api/admin/shares/{share}/{kind} (and of the page's forms under
// /admin/...). ActionTestAlert is box-wide: POST /api/admin/test-alert.
const (
	ActionSync      = "sync"       // start a full reconcile now
	ActionPause     = "pause"      // pause transfers
	ActionResume    = "resume"     // resume transfers
	ActionApprove   = "approve"    // release held delete batch Batch
	ActionSnapshot  = "snapshot"   // take a ZFS snapshot now
	ActionVerify    = "verify"     // start a verify (Deep, SamplePercent)
	ActionRestore   = "restore"    // restore Path from the bucket, or from Snapshot when set
	ActionTestAlert = "test-alert" // send a test notice to every alert channel
	// ActionTripwireRelease: the changes the ransomware tripwire holds are
	// legitimate; they leave for the bucket and the trip is cleared.
	ActionTripwireRelease = "tripwire-release"
	// ActionTripwireRestore: restore the share from the bucket as it was
	// before the first suspicious change, then re-arm the tripwire.
	ActionTripwireRestore = "tripwire-restore"
)

var shareActions = map[string]bool{
	ActionSync: true, ActionPause: true, ActionResume: true, ActionApprove: true,
	ActionSnapshot: true, ActionVerify: true, ActionRestore: true, ActionTripwireRelease: true,
	ActionTripwireRestore: true,
}

// Action is one admin request, validated for shape (not for meaning)
// before it reaches Actions.
type Action struct {
	Kind  string
	Share string // empty for ActionTestAlert
	// Batch is the delete batch id to approve (from the share's
	// delete_batch): approving names exactly what the person saw.
	Batch string
	// Path is the share-relative file or folder to restore; "" is all.
	Path string
	// Snapshot restores Path from this ZFS snapshot instead of the bucket.
	Snapshot string
	// Deep makes a verify read data; SamplePercent (0-100, 0 means all)
	// limits it to a random sample of files.
	Deep          bool
	SamplePercent float64
	// User is the admin who asked, for logs and the event log.
	User string
}

// Result is what an action did, for the page's message and the API.
type Result struct {
	Message string `json:"message"`
	// Job is the id of a background job (verify, restore) when one was
	// started; its progress shows in the share's status.
	Job string `json:"job,omitempty"`
}

// Actions carries out admin actions; the daemon implements it. Do must be
// safe for concurrent use; it returns ErrUnknownShare for a share it does
// not run, ErrInvalid (wrapped) for a request it cannot take, and any
// other error for a failure.
type Actions interface {
	Do(ctx context.Context, a Action) (Result, error)
}

// Errors of Actions.Do the server maps to HTTP statuses.
var (
	ErrUnknownShare = errors.New("no such share")                   // 404
	ErrInvalid      = errors.New("invalid request")                 // 400
	ErrUnavailable  = errors.New("admin actions are not available") // 503
)

func (s *Server) routeAdmin() {
	s.mux.HandleFunc("POST /admin/shares/{share}/{kind}", s.admin(s.action(false), false))
	s.mux.HandleFunc("POST /admin/test-alert", s.admin(s.action(false), false))
	s.mux.HandleFunc("POST /api/admin/shares/{share}/{kind}", s.admin(s.action(true), true))
	s.mux.HandleFunc("POST /api/admin/test-alert", s.admin(s.action(true), true))
}

// actionBody is the optional JSON body of an API admin POST.
type actionBody struct {
	Batch         string  `json:"batch"`
	Path          string  `json:"path"`
	Snapshot      string  `json:"snapshot"`
	Deep          bool    `json:"deep"`
	SamplePercent float64 `json:"sample_percent"`
}

// actionResponse is the body of a successful API admin POST.
type actionResponse struct {
	OK bool `json:"ok"`
	Result
}

func (s *Server) action(api bool) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		a, err := parseAction(r, api)
		if err == nil && s.opts.Actions == nil {
			err = ErrUnavailable
		}
		var res Result
		if err == nil {
			a.User = sess.user
			res, err = s.opts.Actions.Do(r.Context(), a)
		}
		log := s.log.With().Str("user", sess.user).Str("action", a.Kind).Str("share", a.Share).Logger()
		if err != nil {
			log.Warn().Err(err).Msg("admin action failed")
		} else {
			log.Info().Str("result", res.Message).Msg("admin action")
		}
		if api {
			if err != nil {
				writeJSON(w, errorCode(err), apiError{err.Error()}, s.log)
				return
			}
			writeJSON(w, http.StatusOK, actionResponse{OK: true, Result: res}, s.log)
			return
		}
		msg := res.Message
		if err != nil {
			msg = "Failed: " + err.Error()
		}
		s.auth.setFlash(sess, msg)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

func errorCode(err error) int {
	switch {
	case errors.Is(err, ErrUnknownShare):
		return http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusConflict
	}
}

// parseAction reads the action from the path and the JSON body (API) or
// form (page).
func parseAction(r *http.Request, api bool) (Action, error) {
	a := Action{Kind: r.PathValue("kind"), Share: r.PathValue("share")}
	if a.Share == "" {
		a.Kind = ActionTestAlert
	} else if !shareActions[a.Kind] {
		return a, fmt.Errorf("%w: unknown action %q", ErrInvalid, a.Kind)
	}
	var b actionBody
	if api {
		if r.ContentLength != 0 {
			if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
				return a, fmt.Errorf("%w: body must be a JSON object: %v", ErrInvalid, err)
			}
		}
	} else {
		b.Batch, b.Path, b.Snapshot = r.PostFormValue("batch"), r.PostFormValue("path"), r.PostFormValue("snapshot")
		b.Deep = r.PostFormValue("deep") != ""
		if v := strings.TrimSpace(r.PostFormValue("sample_percent")); v != "" {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return a, fmt.Errorf("%w: sample_percent must be a number", ErrInvalid)
			}
			b.SamplePercent = p
		}
	}
	a.Batch, a.Path, a.Snapshot = strings.TrimSpace(b.Batch), strings.Trim(strings.TrimSpace(b.Path), "/"), strings.TrimSpace(b.Snapshot)
	a.Deep, a.SamplePercent = b.Deep, b.SamplePercent
	switch {
	case a.Kind == ActionApprove && a.Batch == "":
		return a, fmt.Errorf("%w: approve needs the batch id", ErrInvalid)
	case a.SamplePercent < 0 || a.SamplePercent > 100:
		return a, fmt.Errorf("%w: sample_percent must be between 0 and 100", ErrInvalid)
	case strings.Contains(a.Path, "\x00") || hasDotDot(a.Path):
		return a, fmt.Errorf("%w: path must be share-relative, without ..", ErrInvalid)
	}
	return a, nil
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}
