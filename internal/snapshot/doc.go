// Package snapshot owns a share's snapshot lifecycle on top of package zfs:
// the schedule and its retention pruning, the expiry of pre-operation
// snapshots, manual and pre-operation snapshots, rollback of a live share
// (RollbackShare, its pipeline held still through Pipeline), restore of
// files from a snapshot (Restore, through atomicfile), and the read-only
// clones that give Windows "Previous Versions" where ZFS has no
// .zfs/snapshot directory (zfs-fuse). For a running appliance it also owns
// Set, the shares' managers with their listings and status, and Pools, the
// health of the pools under the shares, with events on transitions.
//
// It keeps state and a clock (Options.Now), which package zfs, the
// stateless border to the tools, does not; and it is not part of the
// daemon, so that it is tested against a real zfs-fuse pool with no
// appliance around it.
//
// Rules it keeps:
//
//   - Pruning destroys only the scheduled snapshots zfs.Prune selects;
//     pre-operation snapshots expire after Options.PreOpRetention unless
//     held; foreign ones are never touched. A snapshot is destroyed only
//     after its clone was removed; a busy clone keeps both until the next
//     round.
//   - Clones are direct children of the share's dataset named
//     gs-shadow-<time>, mounted read-only under
//     <share>/.genesissync-snapshots/<snapshot name> (layout.SnapshotDir,
//     excluded from sync and vetoed from SMB listings). Clones that match
//     no scheduled snapshot are removed.
//   - Rollback removes every clone first (a rollback can remove the
//     directories they are mounted on) and rebuilds them afterwards.
//     RollbackShare refuses a share that is syncing or changes while
//     paused, and holds the deletes the rollback causes for approval.
//   - Restore takes a pre-restore snapshot first, replaces no file an SMB
//     client holds open, removes nothing the snapshot lacks, and writes no
//     reserved name and nothing through a symlink.
//   - It never decides to roll back or restore (a person does, through the
//     daemon), and reaches the pipeline only through Pipeline.
//
// Every exported method is safe for concurrent use. A Manager serializes
// its operations with one mutex, the per-dataset ordering package zfs asks
// of its callers; Set and Pools keep what they last read under their own
// locks and call ZFS only from Run and from the operations a person asks
// for.
package snapshot
