// Package playout lets the appliance's transfers yield to playout.
//
// On a small appliance the uploader, the hash pass and (in tests and
// small installs) MinIO compete with smbd for CPU and disk. A playout PC
// reading a track every few milliseconds notices even a short stall as a
// gap on air, so while SMB clients are reading, transfers slow down and
// run one at a time; when the studio is quiet they go back to full speed.
//
// A Detector samples how many bytes smbd has sent to its clients (the
// kernel's per-connection count of bytes the peer acknowledged, from
// NETLINK_SOCK_DIAG: no privilege needed, and it counts a cached track as
// well as one read from disk) and switches a Governor between quiet and
// active. The Governor is what transfers consult: Acquire before a
// transfer, WaitN for the bytes each read or write moves, Chunk for the
// largest read worth doing at once. A quiet Governor costs an atomic
// load per call.
//
// Pacing is what the appliance runs: the one Governor every share's
// transfers share, its Detector on smbd's ports, the events of each
// switch, and the state the status page shows (or why pacing is off).
package playout
