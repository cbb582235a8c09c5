package layout

import "strings"

// The reserved names. Share names are share-relative paths; bucket names are
// keys relative to the share's prefix.
const (
	// ReservedPrefix starts every name the appliance reserves.
	ReservedPrefix = ".genesissync"
	// ReservedPattern is the exclude and veto pattern that matches every
	// reserved name (config's default excludes, Samba's veto files).
	ReservedPattern = ReservedPrefix + "*"

	// ShareMarker is the file at every share root that proves the root is
	// the share (a dataset that failed to mount shows an empty directory
	// without it), and the object beside the share's keys in the bucket
	// that proves the bucket and prefix are the share's.
	ShareMarker = ReservedPrefix + "-share"
	// TrashDir is the share folder and, under the share's prefix, the
	// bucket folder where deleted files wait before they are removed for
	// good: TrashDir/<date>/<path>.
	TrashDir = ReservedPrefix + "-trash"
	// TempPrefix starts every temp name the appliance writes in a share:
	// TempPrefix, an optional writer's tag, random hex, "-", the base name.
	TempPrefix = ReservedPrefix + "-tmp-"
	// ImportTempTag is the tag of `genesissync import`'s temp files, so
	// that an import removes only its own leftovers (TempPrefix +
	// ImportTempTag + ...).
	ImportTempTag = "import-"
	// SnapshotDir is the share folder under which read-only clones of
	// the share's snapshots are mounted for Samba's shadow_copy2 where ZFS
	// has no .zfs/snapshot directory (zfs-fuse).
	SnapshotDir = ReservedPrefix + "-snapshots"

	// InternalPrefix is the bucket folder, under the share's prefix, of
	// the appliance's own objects other than the marker and the trash.
	InternalPrefix = ReservedPrefix + "/"
	// ProbePrefix is the folder under InternalPrefix in which the
	// capability probe writes: one random subfolder per run.
	ProbePrefix = InternalPrefix + "probe/"
	// AppliancesPrefix is the folder under InternalPrefix of the
	// appliances' heartbeats: one object per appliance on the prefix,
	// named after it (AppliancesPrefix + appliance.name), kept current
	// by that appliance and read by the others.
	AppliancesPrefix = InternalPrefix + "appliances/"
)

// IndexFile is the name of the index database in the state directory.
const IndexFile = "index.db"

// IsInternal reports whether key, relative to a share's prefix, is one of
// the appliance's own objects: the share marker, or an object under
// TrashDir/ or InternalPrefix. Those are not share content; listings skip
// them silently. The test is exact, as the appliance writes these keys in
// this spelling only: any other key with a segment starting with
// ReservedPrefix, in any letter case, is not the appliance's and keymap
// refuses it, visibly. Safe for concurrent use.
func IsInternal(key string) bool {
	return key == ShareMarker || strings.HasPrefix(key, TrashDir+"/") || strings.HasPrefix(key, InternalPrefix)
}
