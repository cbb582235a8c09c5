// Package daemon owns the running appliance: it wires the index, one
// reconcile pipeline per share, Samba (a supervised private smbd in
// standalone mode, the system smbd in appliance mode) and the status
// server, and it owns their start and stop order.
//
// Nothing here decides what to sync or how to talk to S3 or Samba; it
// only connects the packages that do. Run is called once; Snapshot is
// safe for concurrent use while Run runs.
package daemon
