// Package playout lets the appliance's transfers yield to playout.
//
// On a small appliance the uploader, the hash pass and MinIO compete with
// smbd for CPU and disk, and a playout PC notices even a short stall as a
// gap on air. So while SMB clients read, transfers slow down and run one
// at a time; when the studio is quiet they go back to full speed.
//
// A Detector samples the bytes smbd's clients acknowledged per connection
// (NETLINK_SOCK_DIAG: no privilege, and a cached track counts like one
// read from disk) and switches a Governor between quiet and active.
// Transfers consult the Governor: Acquire before a transfer, WaitN for
// the bytes each read or write moves, Chunk for the largest read. A quiet
// Governor costs an atomic load per call. Pacing is what the appliance
// runs: the one shared Governor, its Detector on smbd's ports, the switch
// events and the state the status page shows (or why pacing is off).
package playout
