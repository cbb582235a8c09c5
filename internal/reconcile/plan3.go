package reconcile

import (
	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
)

// Policy is a share's delete policy: which way deletes may travel.
type Policy string

const (
	// Mirror propagates proven deletes both ways; the zero Policy plans
	// the same.
	Mirror Policy = "mirror"
	// Keep never deletes in the bucket: a file deleted on the share stays
	// there (and is not downloaded again unless it changes in the bucket).
	// Deletes in the bucket still reach the share.
	Keep Policy = "keep"
	// UploadOnly only ever uploads: no downloads, no deletes either way.
	UploadOnly Policy = "upload-only"
)

// Action is what the planner decides for one path.
type Action int

const (
	// Nothing: both sides agree with the base, or nothing may be done.
	Nothing Action = iota
	// Upload the local file.
	Upload
	// Download the remote object.
	Download
	// DeleteLocal: the object was deleted in the bucket and the local file
	// is the synced version: remove it from the share (recoverably).
	DeleteLocal
	// DeleteRemote: the file was deleted on the share and the object is
	// the synced version: remove it from the bucket (recoverably).
	DeleteRemote
	// Forget: both sides are gone; drop the base entry.
	Forget
	// KeepDeleted: deleted on the share, kept in the bucket by the Keep
	// policy; mark the base entry so the object is not downloaded again.
	KeepDeleted
	// Adopt: both sides hold the same content without a base (e.g. a
	// restored share); record it as synced, transfer nothing.
	Adopt
	// Conflict: both sides changed since the base (or appeared with
	// different content): keep both versions.
	Conflict
	// NeedLocalHash: the decision depends on whether the local content
	// changed, which only its hash tells; hash it and plan again.
	NeedLocalHash
	// NeedRemoteHash: the decision depends on whether the object's bytes
	// equal the local file's, and neither its metadata nor its ETag
	// proved it: read the object, hash it, and plan again.
	NeedRemoteHash
)

var actionNames = [...]string{"nothing", "upload", "download", "delete-local", "delete-remote", "forget", "keep-deleted", "adopt", "conflict", "need-local-hash", "need-remote-hash"}

func (a Action) String() string { return actionNames[a] }

// IsDelete reports whether the action removes a file or object.
func (a Action) IsDelete() bool { return a == DeleteLocal || a == DeleteRemote }

// Input is everything the planner knows about one path. Local nil: no
// file on the share; Remote nil: no object; Base nil: never synced.
// LocalSHA256 is set when the file was read for this decision;
// Remote.SHA256 when the object carries our metadata. For a foreign object
// (mc, rclone, AzuraCast) ETagMatch says the local bytes reproduce its
// ETag (single-part MD5 or a common multipart part size);
// RemoteReadSHA256 is the object's bytes hashed, the proof of last resort.
type Input struct {
	Local            *scan.File
	LocalSHA256      string
	ETagMatch        bool
	RemoteReadSHA256 string
	Base             *index.Entry
	Remote           *objstore.Object
	Policy           Policy
}

// sameContent decides whether the hashed local file and the object hold
// the same bytes, cheapest proof first; decided is false when only reading
// the object can tell.
func sameContent(in Input) (same, decided bool) {
	r := in.Remote
	switch {
	case r.Size != in.Local.Size:
		return false, true
	case r.SHA256 != "":
		return r.SHA256 == in.LocalSHA256, true
	case in.ETagMatch:
		return true, true
	case in.RemoteReadSHA256 != "":
		return in.RemoteReadSHA256 == in.LocalSHA256, true
	}
	return false, false
}

// Plan decides what to do with one path, from the three-way comparison
// of local state, base (last synced) state and remote state. It is pure:
// no I/O, no clock. The rules, which never lose data:
//
//   - a side "changed" when it differs from the base; a delete is proven
//     only when the base shows the other side still holds exactly the
//     synced version;
//   - when both sides changed, both versions are kept (Conflict), unless
//     they are equal by content;
//   - a deleted side never wins over a changed side: the change is
//     restored to the deleted side;
//   - the policy only ever removes actions (downloads, deletes), never
//     turns one into a destructive other.
//
// Share-wide gates (root health, the mass-delete guard) apply on top.
func Plan(in Input) Action {
	a := plan(in)
	switch in.Policy {
	case UploadOnly:
		switch a {
		case Download, DeleteLocal, DeleteRemote, Conflict:
			if in.Local != nil && a == Conflict {
				return Upload // the bucket is a copy of the share here
			}
			return Nothing
		case KeepDeleted:
			return Nothing
		}
	case Keep:
		if a == DeleteRemote {
			return KeepDeleted
		}
	}
	return a
}

func plan(in Input) Action {
	l, b, r := in.Local, in.Base, in.Remote
	if b == nil {
		switch {
		case l == nil && r == nil:
			return Nothing
		case r == nil:
			return Upload
		case l == nil:
			return Download
		}
		// No base (a first pass, a lost index): adopt proven-equal content;
		// only a proven difference is a conflict.
		if r.Size != l.Size {
			return Conflict
		}
		if in.LocalSHA256 == "" {
			return NeedLocalHash
		}
		return adoptOrConflict(in)
	}

	if b.LocalGone && l == nil {
		// Deleted here earlier and kept in the bucket by policy.
		switch {
		case r == nil:
			return Forget
		case remoteChanged(b, r):
			return Download
		default:
			return Nothing
		}
	}

	rState := sideUnchanged
	switch {
	case r == nil:
		rState = sideDeleted
	case remoteChanged(b, r):
		rState = sideChanged
	}
	lState := sideUnchanged
	switch {
	case l == nil:
		lState = sideDeleted
	case PlanLocal(*l, b) == InSync:
	case in.LocalSHA256 == "":
		// Only content tells a touch from an edit; the uploader hashes
		// anyway, so ask only where it changes the decision.
		if rState == sideUnchanged {
			return Upload
		}
		return NeedLocalHash
	case in.LocalSHA256 != b.SHA256 || l.Size != b.Size:
		lState = sideChanged
	}

	switch {
	case lState == sideUnchanged && rState == sideUnchanged:
		if l != nil && PlanLocal(*l, b) != InSync {
			// Same content, new stat (a touch): refresh the base.
			return Adopt
		}
		return Nothing
	case lState == sideChanged && rState == sideUnchanged:
		return Upload
	case lState == sideUnchanged && rState == sideChanged:
		return Download
	case lState == sideChanged && rState == sideChanged:
		return adoptOrConflict(in)
	case lState == sideDeleted && rState == sideUnchanged:
		return DeleteRemote
	case lState == sideUnchanged && rState == sideDeleted:
		return DeleteLocal
	case lState == sideDeleted && rState == sideChanged:
		return Download
	case lState == sideChanged && rState == sideDeleted:
		return Upload
	default: // both deleted
		return Forget
	}
}

// adoptOrConflict is the decision for both sides holding a file that
// differs from the base (or without a base): Adopt when the bytes are
// proven equal, Conflict when proven different.
func adoptOrConflict(in Input) Action {
	same, decided := sameContent(in)
	switch {
	case !decided:
		return NeedRemoteHash
	case same:
		return Adopt
	}
	return Conflict
}

type sideState int

const (
	sideUnchanged sideState = iota
	sideChanged
	sideDeleted
)

// remoteChanged compares a listed object with the base by what a listing
// gives: size and ETag (and the version, where both know one).
func remoteChanged(b *index.Entry, r *objstore.Object) bool {
	if r.Size != b.Size || r.ETag != b.ETag {
		return true
	}
	return r.VersionID != "" && b.VersionID != "" && r.VersionID != b.VersionID
}
