// Package playout lets the appliance's transfers yield to playout.
//
// On a small appliance the uploader, the hash pass and (in tests and
// small installs) MinIO compete with smbd for CPU and disk. A playout PC
// reading a track every few milliseconds notices even a short stall as a
// gap on air, so while SMB clients are reading, transfers slow down and
// run one at a time; when the studio is quiet they go back to full speed.
//
// A Detector samples how many bytes smbd's client processes have read
// (their rchar in /proc/PID/io: page-cache hits included, which is what
// playout of a cached track is) and switches a Governor between quiet and
// active. The Governor is what transfers consult: Acquire before a
// transfer, WaitN for the bytes each read or write moves, Chunk for the
// largest read worth doing at once. A quiet Governor costs an atomic
// load per call.
package playout
