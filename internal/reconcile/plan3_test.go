package reconcile

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

// The three-way planner's table: every combination of each side being
// absent (never existed), new, unchanged, changed or deleted relative to
// the base, under every policy, with the hashes known or not.

var (
	mt0  = time.Unix(1_700_000_000, 0).UTC()
	base = index.Entry{Size: 10, Mtime: mt0, Inode: 1, SHA256: "aaa", ETag: "e1", HashedAt: mt0.Add(time.Hour)}
)

type side int

const (
	absent  side = iota // no base, nothing here
	fresh               // no base, present
	same                // base, unchanged
	edited              // base, content changed
	touched             // base, stat changed, content the same
	gone                // base, deleted
)

func (s side) String() string {
	return [...]string{"absent", "new", "unchanged", "changed", "touched", "deleted"}[s]
}

func localOf(s side) (*scan.File, string) {
	switch s {
	case fresh:
		return &scan.File{Size: 10, Mtime: mt0, Inode: 9}, "new-local"
	case same:
		return &scan.File{Size: base.Size, Mtime: base.Mtime, Inode: base.Inode}, base.SHA256
	case edited:
		return &scan.File{Size: 11, Mtime: mt0.Add(time.Minute), Inode: 1}, "bbb"
	case touched:
		return &scan.File{Size: base.Size, Mtime: mt0.Add(time.Minute), Inode: 1}, base.SHA256
	}
	return nil, ""
}

func remoteOf(s side) *objstore.Object {
	switch s {
	case fresh:
		return &objstore.Object{Size: 10, ETag: "e9", SHA256: "new-remote"}
	case same:
		return &objstore.Object{Size: base.Size, ETag: base.ETag, SHA256: base.SHA256}
	case edited:
		return &objstore.Object{Size: 12, ETag: "e2", SHA256: "ccc"}
	case touched: // re-uploaded, same bytes
		return &objstore.Object{Size: base.Size, ETag: "e3", SHA256: base.SHA256}
	}
	return nil
}

func TestPlanThreeWay(t *testing.T) {
	// want[local][remote] under Mirror, with hashes known.
	type row struct {
		l, r side
		want Action
	}
	rows := []row{
		{absent, absent, Nothing},
		{fresh, absent, Upload},
		{absent, fresh, Download},
		{fresh, fresh, Conflict}, // same size, different content

		{same, same, Nothing},
		{same, edited, Download},
		{same, touched, Download},
		{same, gone, DeleteLocal},
		{edited, same, Upload},
		{edited, edited, Conflict},
		{edited, touched, Conflict},
		{edited, gone, Upload},
		{touched, same, Adopt},
		{touched, edited, Download},
		{touched, gone, DeleteLocal},
		{gone, same, DeleteRemote},
		{gone, edited, Download},
		{gone, touched, Download},
		{gone, gone, Forget},
	}
	for _, tc := range rows {
		t.Run(fmt.Sprintf("local %s, remote %s", tc.l, tc.r), func(t *testing.T) {
			in := input(tc.l, tc.r)
			require.Equal(t, tc.want, Plan(in), "mirror")

			// Keep: only the remote delete changes.
			wantKeep := tc.want
			if wantKeep == DeleteRemote {
				wantKeep = KeepDeleted
			}
			in.Policy = Keep
			require.Equal(t, wantKeep, Plan(in), "keep")

			// Upload-only: never downloads or deletes anything.
			in.Policy = UploadOnly
			got := Plan(in)
			require.NotContains(t, []Action{Download, DeleteLocal, DeleteRemote, KeepDeleted, Conflict}, got, "upload-only")
			if tc.want == Upload {
				require.Equal(t, Upload, got)
			}
		})
	}
}

func input(l, r side) Input {
	lf, lsum := localOf(l)
	in := Input{Local: lf, LocalSHA256: lsum, Remote: remoteOf(r), Policy: Mirror}
	if l != absent && l != fresh || r != absent && r != fresh {
		b := base
		in.Base = &b
	}
	return in
}

// TestPlanAsksForHashes: without hashes the planner never guesses where
// the answer could delete or overwrite something.
func TestPlanAsksForHashes(t *testing.T) {
	cases := []struct {
		name string
		l, r side
		drop string // which hash is unknown
		want Action
	}{
		{"both new, same size", fresh, fresh, "local", NeedLocalHash},
		{"both new, remote hash unknown", fresh, fresh, "remote", NeedRemoteHash},
		{"local stat changed, remote deleted", touched, gone, "local", NeedLocalHash},
		{"local stat changed, remote changed", edited, edited, "local", NeedLocalHash},
		{"local stat changed, remote unchanged: upload hashes anyway", edited, same, "local", Upload},
		// Sizes differ (11 and 12 bytes): that alone proves a difference.
		{"both changed to other sizes, remote hash unknown", edited, edited, "remote", Conflict},
		{"both changed to one size, remote hash unknown", edited, edited, "remote+size", NeedRemoteHash},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := input(tc.l, tc.r)
			switch tc.drop {
			case "local":
				in.LocalSHA256 = ""
			case "remote+size":
				in.Remote.Size = in.Local.Size
				fallthrough
			default:
				in.Remote.SHA256 = ""
			}
			require.Equal(t, tc.want, Plan(in))
		})
	}
}

// TestPlanAdoptionProofs: a path on both sides without a base (a first
// pass over a bucket that mc mirror kept) is one file once any proof shows
// the bytes are equal, cheapest first; only a proven difference is a
// conflict, and without a proof either way the object is read.
func TestPlanAdoptionProofs(t *testing.T) {
	l := &scan.File{Size: 10, Mtime: mt0, Inode: 5}
	foreign := func() *objstore.Object { return &objstore.Object{Size: 10, ETag: "0123abcd-2"} } // no sha256 metadata
	cases := []struct {
		name string
		in   Input
		want Action
	}{
		{"other size: a conflict without reading anything", Input{Local: l, Remote: &objstore.Object{Size: 11, ETag: "x"}}, Conflict},
		{"same size: hash the local file first", Input{Local: l, Remote: foreign()}, NeedLocalHash},
		{"our metadata equal", Input{Local: l, LocalSHA256: "s", Remote: &objstore.Object{Size: 10, SHA256: "s"}}, Adopt},
		{"our metadata different", Input{Local: l, LocalSHA256: "s", Remote: &objstore.Object{Size: 10, SHA256: "t"}}, Conflict},
		{"ETag reproduced from the local bytes", Input{Local: l, LocalSHA256: "s", ETagMatch: true, Remote: foreign()}, Adopt},
		{"ETag not reproduced: read the object", Input{Local: l, LocalSHA256: "s", Remote: foreign()}, NeedRemoteHash},
		{"object read, equal", Input{Local: l, LocalSHA256: "s", RemoteReadSHA256: "s", Remote: foreign()}, Adopt},
		{"object read, different", Input{Local: l, LocalSHA256: "s", RemoteReadSHA256: "t", Remote: foreign()}, Conflict},
		// Our metadata outranks the other proofs: it is what verify and
		// restore check.
		{"metadata different beats an ETag match", Input{Local: l, LocalSHA256: "s", ETagMatch: true, Remote: &objstore.Object{Size: 10, SHA256: "t"}}, Conflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Policy = Mirror
			require.Equal(t, tc.want, Plan(tc.in))
		})
	}
}

func TestPlanEqualContentIsAdopted(t *testing.T) {
	l := &scan.File{Size: 10, Mtime: mt0, Inode: 5}
	r := &objstore.Object{Size: 10, ETag: "x", SHA256: "same"}
	require.Equal(t, Adopt, Plan(Input{Local: l, LocalSHA256: "same", Remote: r, Policy: Mirror}))
	// Both edited to the same bytes.
	in := input(edited, edited)
	in.Remote.SHA256, in.Remote.Size = in.LocalSHA256, in.Local.Size
	require.Equal(t, Adopt, Plan(in))
}

func TestPlanLocalGone(t *testing.T) {
	b := base
	b.LocalGone = true
	require.Equal(t, Nothing, Plan(Input{Base: &b, Remote: remoteOf(same), Policy: Keep}), "kept object is not downloaded again")
	require.Equal(t, Download, Plan(Input{Base: &b, Remote: remoteOf(edited), Policy: Keep}), "a new version in the bucket comes down")
	require.Equal(t, Forget, Plan(Input{Base: &b, Policy: Keep}))
	lf, sum := localOf(edited)
	require.Equal(t, Conflict, Plan(Input{Base: &b, Local: lf, LocalSHA256: sum, Remote: remoteOf(edited), Policy: Keep}))
}

// TestPlanNeverDeletesUnproven: a delete needs the base to show the
// surviving side is exactly the synced version.
func TestPlanNeverDeletesUnproven(t *testing.T) {
	for _, l := range []side{absent, fresh, same, edited, touched, gone} {
		for _, r := range []side{absent, fresh, same, edited, touched, gone} {
			if (l == absent || l == fresh) != (r == absent || r == fresh) {
				continue // no base on one side only: not a state that exists
			}
			in := input(l, r)
			for _, drop := range []bool{false, true} {
				if drop {
					in.LocalSHA256 = ""
				}
				switch Plan(in) {
				case DeleteLocal:
					require.True(t, r == gone && (l == same || l == touched), "delete local from %s/%s", l, r)
					if l == touched {
						require.NotEmpty(t, in.LocalSHA256, "a touched file is deleted only once its hash proved it unchanged")
					}
				case DeleteRemote:
					require.True(t, l == gone && r == same, "delete remote from %s/%s", l, r)
				}
			}
		}
	}
}

func TestOptimistic(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	small := &scan.File{Path: "a.mp3", Size: 64 << 10, Mtime: now, Inode: 7}
	large := &scan.File{Path: "a.mp3", Size: smallFileMax + 1, Mtime: now, Inode: 7}
	synced := &index.Entry{Size: 60 << 10, Mtime: now.Add(-time.Hour), Inode: 7, SHA256: "aa", ETag: "e1", VersionID: "v1"}
	inSync := &index.Entry{Size: small.Size, Mtime: small.Mtime, Inode: 7, SHA256: "aa", ETag: "e1", HashedAt: now.Add(time.Minute)}
	racy := &index.Entry{Size: small.Size, Mtime: small.Mtime, Inode: 7, SHA256: "aa", ETag: "e1", HashedAt: small.Mtime}
	gone := &index.Entry{Size: 60 << 10, Mtime: now, Inode: 7, SHA256: "aa", ETag: "e1", LocalGone: true}
	noETag := &index.Entry{Size: 60 << 10, Mtime: now.Add(-time.Hour), Inode: 7, SHA256: "aa"}
	for _, tc := range []struct {
		name   string
		in     Input
		ok     bool
		wantPe transfer.Precondition
	}{
		{"new small file: upload if absent", Input{Local: small, Policy: Mirror}, true, transfer.Precondition{Absent: true}},
		{"edited small file: upload if the recorded ETag is current", Input{Local: small, Base: synced, Policy: Mirror}, true, transfer.Precondition{ETag: "e1"}},
		{"upload-only policy too", Input{Local: small, Base: synced, Policy: UploadOnly}, true, transfer.Precondition{ETag: "e1"}},
		{"large file asks first", Input{Local: large, Base: synced, Policy: Mirror}, false, transfer.Precondition{}},
		{"unchanged file: nothing to upload, ask", Input{Local: small, Base: inSync, Policy: Mirror}, false, transfer.Precondition{}},
		// Hashed within the mtime tick: re-hashed once by the uploader,
		// which sends nothing when the content is the same.
		{"racily clean file: re-hash as an upload", Input{Local: small, Base: racy, Policy: Mirror}, true, transfer.Precondition{ETag: "e1"}},
		{"deleted locally: ask", Input{Base: synced, Policy: Mirror}, false, transfer.Precondition{}},
		{"recorded as gone locally: ask", Input{Local: small, Base: gone, Policy: Mirror}, false, transfer.Precondition{}},
		{"no recorded ETag: ask", Input{Local: small, Base: noETag, Policy: Mirror}, false, transfer.Precondition{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pre, ok := optimistic(tc.in)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.wantPe, pre)
			}
		})
	}
}
