// Package station is the one assembly point of a configured station: it
// opens what each share is made of (its object store, index, exclude
// matcher, the owner of the files written on it, its view of files open
// over SMB, its root health check, its snapshot options and its pipeline
// options) from the config, the same way for the daemon, the CLI and the
// demo, so that a command working on a stopped daemon's share decides
// exactly as the daemon would.
//
// It opens and maps; it never runs a pipeline, serves anything or keeps
// state. Its functions are safe for concurrent use.
package station
