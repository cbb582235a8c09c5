// Package zfs owns the appliance's view of ZFS: datasets (space, mount
// state, which dataset holds a share root), snapshots (take, list, destroy,
// roll back, hold), pool health (zpool list, zpool status, zpool status -x),
// the snapshot naming scheme that Samba's vfs_shadow_copy2 matches, and the
// pure retention planner (Prune). It works with OpenZFS 2.x, the
// appliance's, and with Debian's zfs-fuse 0.7, what test machines run.
//
// It is the only package that executes zfs, zpool and zfs-fuse. Every call
// goes through one runner, so that the parsers are tested against captured
// output (testdata/zfs-fuse, real; testdata/openzfs, hand-written from the
// documentation).
//
// Rules this package must keep:
//
//   - Only machine output is parsed: `zfs get -H -p -o name,property,value`
//     (zfs-fuse has no `zfs list -p`), `zfs list -H` for non-numeric
//     columns, `zpool list -H` (with -p where the tool has it; zfs-fuse
//     prints rounded sizes, flagged by PoolInfo.SizesExact). zpool status
//     has no machine format in either tool; its human text is read
//     leniently, and what is not understood is kept verbatim, never guessed.
//     Tools run with LC_ALL=C.
//   - Every pool, dataset, snapshot and tag name is checked against a
//     narrow grammar before it reaches a command line: nothing starting
//     with '-', no '@' in a dataset name, no '%' range or '#' bookmark, no
//     spaces. A snapshot is always named as dataset plus short name, so no
//     call here can destroy a file system by mistake; only the test helpers
//     (CreateFilePool, DestroyPool) touch whole pools.
//   - Prune never plans to destroy a pre-operation snapshot, a held one,
//     one dated after its clock, or any snapshot whose name is not the
//     schedule's. DestroySnapshot retries zfs-fuse's brief "busy" a bounded
//     number of times, but never a held snapshot's (ZFS answers "busy" for
//     those too). Rollback refuses by default when newer snapshots exist.
//   - It never mounts, unmounts, creates or destroys datasets or pools on
//     the appliance; those are the installer's and the administrator's.
//     The one exception is Previous Versions where ZFS has no
//     .zfs/snapshot directory (zfs-fuse, see HasSnapdir): Clone makes
//     read-only clones of snapshots as children of the share's dataset,
//     and DestroyClone removes them, refusing any dataset without an
//     origin snapshot.
//
// Snapshot names. Scheduled snapshots are named by ScheduleName,
// gs-YYYY-MM-DD-HHMM, in UTC: the names sort by time, no DST change can
// repeat or skip one, and Samba is given ShadowFormat with
// "shadow:localtime = no" (its default), so Windows receives @GMT tokens and
// Explorer's Previous Versions shows each in the client's local time.
// Snapshots taken before a restore or an approved mass delete are named by
// PreOpName, gs-pre-<op>-YYYY-MM-DD-HHMMSS (UTC, seconds); they do not
// match ShadowFormat, so Previous Versions lists only the schedule's.
// Snapshots with any other name are foreign and left alone.
//
// Holds. zfs-fuse 0.7 supports `zfs hold` and `zfs release`, and a held
// snapshot cannot be destroyed, but `zfs holds` fails there (it needs a
// Python helper Debian does not ship); the count of holds is read from the
// userrefs property (SnapshotInfo.Holds) on both tools.
//
// zfs-fuse. On test machines ZFS is a FUSE daemon, machine-wide:
// EnsureFuseDaemon starts it (with -x, which Samba's extended attributes
// need) when it is not running and leaves it running; StopFuseDaemon stops
// it only when no pool is imported. zfs-fuse has no .zfs/snapshot
// directory, keeps whole-second times, and answers "dataset is busy" for
// about a tenth of a second after a dataset is created or mounted. Package
// zfstest gives tests pools of their own on it.
//
// Functions in this package are safe for concurrent use. ZFS itself
// serializes what it must; the one ordering callers keep is per dataset:
// no Snapshot while a Rollback with DestroyNewer runs (see Rollback).
package zfs
