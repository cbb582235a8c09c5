// Package zfs owns the appliance's view of ZFS: datasets (space, mount
// state, which dataset holds a share root), snapshots (take, list, destroy,
// roll back, hold), pool health, the snapshot names Samba's
// vfs_shadow_copy2 matches, and the pure retention planner (Prune). It
// works with OpenZFS 2.x (the appliance) and Debian's zfs-fuse 0.7 (test
// machines); docs/zfs.md lists where the two differ.
//
// It is the only package that executes zfs, zpool and zfs-fuse, all
// through one runner, so that the parsers are tested against captured
// output (testdata/zfs-fuse, real; testdata/openzfs, hand-written from the
// documentation).
//
// Rules it keeps:
//
//   - Only machine output is parsed, with LC_ALL=C: `zfs get -H -p` for
//     numbers (zfs-fuse has no `zfs list -p`), `zfs list -H`, `zpool list
//     -H` (-p where the tool has it). zpool status has no machine format;
//     its text is read leniently, and what is not understood is kept
//     verbatim, never guessed.
//   - Every pool, dataset, snapshot and tag name passes a narrow grammar
//     before it reaches a command line: no leading '-', no '@' in a
//     dataset name, no '%' range or '#' bookmark, no spaces. A snapshot is
//     always named as dataset plus short name, so no call can destroy a
//     file system by mistake.
//   - Prune never plans to destroy a pre-operation, held, future-dated or
//     foreign snapshot; DestroySnapshot never retries a held one; Rollback
//     refuses by default when newer snapshots exist.
//   - It never mounts, unmounts, creates or destroys datasets or pools on
//     the appliance; those are the installer's and the administrator's.
//     The exceptions are the read-only Previous Versions clones where ZFS
//     has no .zfs/snapshot (Clone; DestroyClone refuses any dataset without
//     an origin snapshot) and the test helpers in fuse.go.
//
// Functions in this package are safe for concurrent use. ZFS serializes
// what it must; the one ordering callers keep is per dataset: no Snapshot
// while a Rollback with DestroyNewer runs.
package zfs
