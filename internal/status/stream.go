package status

import (
	"encoding/json"
	"net/http"
	"time"
)

// stream serves live updates as Server-Sent Events: an event "status"
// whose data is the /api/status snapshot (one line of JSON), at once and
// then every streamEvery, until the client goes or the server stops.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, _ *session) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		writeJSON(w, http.StatusServiceUnavailable, apiError{"too many live streams; poll /api/status instead"}, s.log)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// A client that reconnects waits this long (ms) first.
	if _, err := w.Write([]byte("retry: 3000\n\n")); err != nil {
		return
	}
	t := time.NewTicker(s.streamEvery)
	defer t.Stop()
	for {
		data, err := json.Marshal(s.src.Snapshot())
		if err != nil {
			s.log.Warn().Err(err).Msg("encode live status")
			return
		}
		// json.Marshal escapes no newline into the output: one data line.
		if _, err := w.Write(append(append([]byte("event: status\ndata: "), data...), '\n', '\n')); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}
