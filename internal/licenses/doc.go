// Package licenses owns the license check of the genesissync binary and
// the Debian copyright file made from it (`task licenses`, `task package`,
// `task release`).
//
// The modules linked into the binary are those of `go list -deps
// ./appliance`; their licenses come from cyclonedx-gomod's detector (read
// from the SBOM it writes) and, where the detector is wrong, incomplete or
// blind, from the review list, packaging/license-review.txt: one line per
// license file a person read, pinned to the file's SHA-256. Check never
// passes a module silently: no license, a license text that reads as a
// different or a second license, a license file deeper in a linked
// package's tree that nobody reviewed, a reviewed file that changed, or a
// license outside the policy is a problem, and `task licenses` fails.
//
// Everything here is pure functions over values and read-only fs.FS trees,
// safe for concurrent use; the command in cmd/licenses runs go list and
// does the I/O.
package licenses
