// Package model owns the snapshot of the appliance's state that people
// see: shares (pipeline status, recovery point target, recent errors,
// rates, ZFS snapshots, verify, the appliances on the share's bucket
// prefix), ZFS pools, running jobs, firing alerts, standing warnings,
// bucket endpoints, SMB clients, smbd and playout. The daemon fills a
// Snapshot; the status page, the JSON API, the metrics and the alert
// rules read it. Its field comments are the JSON API's contract.
//
// It also owns the pure rules that are facts about that state: whether a
// share is stale (Share.StalenessAt, applied by Snapshot.MarkStale) and
// whether the box is fit to serve (Snapshot.Healthy).
//
// It must never serve HTTP, render templates, export metrics, read the
// config or do I/O; it carries no secret. Its types are plain values: safe
// to copy and to read from any goroutine, not to mutate concurrently.
package model
