// Package scan owns reading the share tree: walking it, stat'ing files in
// the form the index compares (size, mtime, inode), deciding which names
// are excluded from sync, and hashing file contents.
//
// Walk reports regular files only: symlinks, devices and sockets are never
// followed or synced (a symlink could point outside the share). Scan never
// writes to the share and never decides what to upload; that is the
// reconciler's job. All functions are safe for concurrent use.
package scan
