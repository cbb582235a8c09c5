// Package tripwire owns the pure judgements of the ransomware tripwire: a
// playout PC that maps the share and is struck by ransomware encrypts its
// files in place or under new names and drops ransom notes, and without a
// tripwire the appliance would upload every encrypted file over its
// original within seconds.
//
// Sniff says whether a file's first bytes still match what its extension
// promises (MPEG audio, RIFF/WAVE, FLAC, Ogg, MP4/AAC, JPEG, PNG, text),
// checked on the bytes the uploader already reads for the hash.
// SuspiciousName recognises ransom-note names and extensions that
// ransomware families append. Burst counts what a share's changes look
// like over a sliding window with an injected clock and says when they
// trip: many rewrites of existing files that no longer match their format
// (or have none), renames to known-bad extensions, ransom notes in several
// folders. Rewrites that stay valid audio never count, so re-tagging a
// folder of MP3s is not an attack.
//
// The package imports nothing of the project and does no I/O: no files,
// no clock, no logging. What a trip does (holding uploads, snapshots,
// alerts) belongs to its callers, and so do the thresholds a station
// configures.
package tripwire
