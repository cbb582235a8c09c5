// Package snapshot owns a share's snapshot lifecycle on top of package
// zfs: the schedule (one snapshot per interval, named by zfs.ScheduleName),
// retention pruning (zfs.Prune), the expiry of pre-operation snapshots
// after their own, longer retention, manual and pre-operation snapshots,
// rollback of a live share (RollbackShare, with its sync pipeline held
// still through the Pipeline interface), restore of files from a
// snapshot into the live share (Restore, written through atomicfile), and
// the read-only clones that give Windows "Previous Versions" on a ZFS
// without a .zfs/snapshot directory (zfs-fuse). For a running appliance
// it also owns the Set of its shares' managers (their schedules, each
// dataset's space and snapshots as last listed, and the status people see
// of them) and Pools, the health of the pools under the shares, read
// every minute with events on transitions and capacity thresholds the
// caller gives (config's, the same as the alerts').
//
// It is a package of its own, not part of zfs, because zfs is the thin,
// stateless border to the zfs and zpool tools (parsers, name checks, one
// command per call), while this package keeps state (the last failure,
// what is due next) and a clock; and not part of the daemon, so that it
// is tested against a real zfs-fuse pool with an injected clock
// (Options.Now) and no appliance around it.
//
// Rules it keeps:
//
//   - Pruning destroys only scheduled snapshots that zfs.Prune selects,
//     never a held one, never a pre-operation one (those expire after
//     Options.PreOpRetention, 30 days by default, unless held), never a
//     foreign one. A snapshot that a Previous Versions clone uses is
//     destroyed only after its clone was removed; when the clone cannot
//     be removed (a client is reading in it) the snapshot stays until the
//     next round.
//   - Clones live as direct children of the share's dataset named
//     gs-shadow-<time>, mounted read-only under
//     <share>/.genesissync-snapshots/<snapshot name>, where Samba's
//     shadow_copy2 looks (the .genesissync prefix is excluded from sync
//     and vetoed from SMB listings). Clones that match no scheduled
//     snapshot are removed; zfs.DestroyClone refuses any dataset that is
//     not a clone.
//   - Rollback removes every clone first (a rollback can remove the
//     directories clones are mounted on), refuses past newer snapshots
//     unless asked, and rebuilds the clones afterwards. RollbackShare
//     around it refuses a share that is syncing or changes while paused,
//     waits for transfers in flight, and holds the deletes the rollback
//     causes for a person's approval.
//   - Restore takes a pre-restore snapshot first, replaces no file an SMB
//     client holds open, removes nothing the snapshot lacks, and writes no
//     reserved name and nothing through a symlink.
//
// It never decides when to roll back or restore (a person does, through
// the daemon), and never talks to the pipeline but through Pipeline.
//
// Set and Pools are safe for concurrent use; each keeps what it last read
// under its own lock and calls ZFS only from Run and from the operations
// a person asks for.
//
// A Manager serializes its own operations (Tick, Create, PreOp, Prune,
// Rollback, reading a snapshot for Restore) with one mutex, which is the
// per-dataset ordering package zfs asks of its callers. All methods are
// safe for concurrent use.
package snapshot
