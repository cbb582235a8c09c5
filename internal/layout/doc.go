// Package layout owns the names the appliance reserves for itself, on a
// share and in a bucket, and the rule that says which bucket objects are
// its own rather than share content.
//
// Every reserved name starts with ReservedPrefix: the share marker, the
// trash, temp files, the snapshot clone directory and the bucket's
// internal folder. Samba vetoes ReservedPattern, the scanner excludes it
// and keymap refuses any key or path with a segment that starts with
// ReservedPrefix in any letter case, so no synced file can take one of
// these names. The state directory's file names live here too.
//
// The package imports nothing of the project, so every package can import
// it; it must never grow behaviour beyond naming: no I/O, no defaults that
// a station configures (those are in config).
package layout
