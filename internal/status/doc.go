// Package status owns the appliance's HTTP face: the server-rendered
// status page (embedded templates, one embedded script for live updates
// over Server-Sent Events), the JSON API (/api/status, the live stream,
// admin actions), Prometheus /metrics, /healthz and /readyz, all fed from
// one model.Snapshot provided by the daemon. docs/api.md documents it.
// What the snapshot holds, and rules such as "stale", belong to
// internal/model; status only shows them.
//
// It changes nothing itself: admin actions are handed to an Actions
// implementation (the daemon), and only for a logged-in admin (bcrypt
// password hashes, server-side sessions in HttpOnly SameSite=Strict
// cookies) whose request carries the session's CSRF token. It never
// renders or logs a secret: the snapshot carries none, password hashes
// stay in the auth store, and file names are escaped by html/template on
// the server and written as text by the script. A Server is safe for
// concurrent use; the Source and Actions it uses must be too.
package status
