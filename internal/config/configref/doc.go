// Package configref generates the configuration reference, docs/config.md,
// from config.Config itself: the keys from its mapstructure tags, each
// key's description from its field's doc comment in internal/config's
// source, and each default from what config.Parse fills into a minimal
// file. The test in this package fails when docs/config.md differs from
// what Generate makes (rewrite it with `go tool task docs`), so the
// reference cannot drift from the code.
//
// It only reads: it never changes the configuration or its package, and it
// has no state (any goroutine may call Generate).
package configref
