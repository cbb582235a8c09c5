// Package daemon owns the running appliance's start and stop order: it
// builds each part from the config (the index, one reconcile pipeline per
// share with its store and janitor, Samba, snapshots and pool health,
// endpoint health, SMB clients, share history, playout pacing, scheduled
// verifies, alerts, the admin socket, the status server and the bucket
// events endpoint), starts them in one errgroup, and assembles the model
// snapshot the page, the API and the alert rules read from their Status.
//
// It decides nothing itself: what to sync, how to talk to S3, Samba or
// ZFS, and what a state means belong to the packages it connects. Run is
// called once; Snapshot is safe for concurrent use while Run runs.
package daemon
