// Package peers owns the heartbeats of the appliances that share a bucket
// prefix (several appliances, one per studio or site, syncing one share
// with one prefix): this appliance's own heartbeat object,
// <prefix>.genesissync/appliances/<name> (layout.AppliancesPrefix), kept
// current every minute and marked stopped when the daemon stops; the
// listing and reading of the others' heartbeats; and the facts people see
// from them (model.Peers): which appliances are on the prefix, which are
// stale (not stopped, yet silent for longer than appliance.stale_after,
// by the store's clock) and whether another appliance with this one's name
// is live on the prefix (a duplicate).
//
// Duplicates are found with S3 conditional writes: the first heartbeat is
// a create if absent, every later one a replace if the object is still
// the one this appliance wrote last. A refusal means that someone else
// wrote this appliance's heartbeat since: when the object then belongs to
// another instance (another daemon start) that is live, both appliances
// carry the same name and each reports the duplicate at its next
// heartbeat, so the two sides tell it alike. A live heartbeat of another
// instance found at the first write is taken over without a duplicate: it
// is as likely this appliance's own, left by a crash just before a
// restart, and a real twin proves itself at its next heartbeat. A store
// that ignores conditions never refuses, so duplicates go unseen there; a
// store that rejects them gets unconditional heartbeats.
//
// It must never write, read or delete any object outside
// layout.AppliancesPrefix, nor any heartbeat but this appliance's own; it
// decides nothing about syncing, leases or conflicts, and never fails a
// share for a peer: a peer's malformed heartbeat is skipped and reported.
// It does no file I/O and imports no AWS SDK type.
package peers
