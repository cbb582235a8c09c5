// Package onair runs the on-air readiness check for the daemon: for each
// share whose config names playlists, it reads the playlists the playout
// will air within the horizon (internal/readiness, pure) and judges every
// track they name by what the appliance knows of it: on the share and
// whole (index and stat agree), synced, a conflict copy, a refused name,
// or only in the bucket (then fetched ahead of other downloads).
//
// A check runs at start, every readiness.interval, and soon after the
// share's pipeline moved something (an upload, download, delete, rename,
// conflict or refusal): a playlist saved over SMB is checked once it has
// settled and gone up, a fetched track is checked once it has come down.
// The result is the model's Readiness of the share, which the status
// page, the API, the metrics and the track_missing alert read.
package onair
