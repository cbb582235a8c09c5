// Package sharehistory owns what the appliance remembers of each share's
// recent past between status snapshots: the distinct errors it last
// reported (newest first, a short list, so the page shows more than the
// latest) and samples of its transfer counters, from which the upload and
// download rates over the last minute and the pace of adoption proofs
// (with the time left at that pace) are computed.
//
// A history is a pure value fed samples with their times; the Watcher
// samples every share's status every 2 s and fills the model's shares.
// It must never change a share or do I/O; it only reads each share's
// Status.
package sharehistory
