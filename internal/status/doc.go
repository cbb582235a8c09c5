// Package status owns the appliance's HTTP face: /healthz, the JSON API
// (/api/status) and the server-rendered status page, all fed from one
// Snapshot provided by the daemon.
//
// It only reads: no handler here changes sync state (admin actions, with
// authentication and CSRF protection, come with the status-page issue).
// It never renders a secret: the Snapshot carries none, and templates
// escape every file name (html/template). A Server is safe for concurrent
// use; the Source it reads must be too.
package status
