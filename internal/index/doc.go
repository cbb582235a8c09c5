// Package index owns the embedded, crash-safe record of what is in sync:
// per share, each path's last synced local version (size, mtime, inode,
// SHA-256) and the remote object it matches (ETag, version, synced-at).
//
// It is one bbolt file under the state directory. Every write is a
// transaction that is durable when it returns (fsync), so the rest of the
// appliance records an action only after the far side confirmed it, and a
// crash leaves the index describing a state that really existed.
//
// The index never touches the share or the bucket; it only remembers. An
// Index and its Share handles are safe for concurrent use; Put calls from
// many goroutines are coalesced into few transactions (bbolt's Batch).
package index
