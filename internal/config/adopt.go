package config

// AdoptPolicy is how a share takes over objects that are already in the
// bucket: the first pass over an existing bucket (an mc mirror cron's, an
// AzuraCast storage location) and objects other tools write later.
type AdoptPolicy struct {
	// BackfillMetadata gives an object written by another tool our
	// metadata (sha256, crc32c, mtime, Content-Type) once its bytes are
	// proven equal to the share's file, by a server-side copy onto itself
	// (no bytes sent), so that verify and restore can check it later.
	// Unset means on. On a versioned bucket each backfill leaves the old
	// version as a non-current version.
	BackfillMetadata *bool `mapstructure:"backfill_metadata"`
}

// Backfill reports whether metadata backfill is on.
func (p AdoptPolicy) Backfill() bool { return p.BackfillMetadata == nil || *p.BackfillMetadata }
