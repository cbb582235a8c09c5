// Package bench is `task bench`: GenesisSync side by side with `mc
// mirror` (the pinned build in .bin) and `rclone sync` (Debian's) on the
// same data against the same real MinIO in the same run, with the
// appliance's real smbd. One benchmark, BenchmarkSuite, runs every
// scenario (upload of large and of small files, a no-change pass,
// restore into an empty directory, change-to-bucket latency over SMB, a
// playout client's read latency while uploads run, the daemon's memory)
// and the ceilings of the box (raw aws-sdk-go-v2 PUT from memory through
// internal/objstore, the bucket listing alone, the disk's O_DIRECT read
// rate). Each tool runs -bench.rounds times, alternating; it prints one
// Markdown table of medians, ratios and the targets (met or not),
// a table of the CPU seconds each upload and restore took (MinIO's
// process and the rest of the machine, from /proc), and writes the same
// as JSON to tests/bench/out/bench.json (git-ignored). The CPU time the
// hypervisor took (steal) is reported; above 2 % the run is flagged as
// not comparable.
//
// Results are numbers, never assertions: the suite fails only when a tool
// fails or produces the wrong files. Develop with a small scale:
//
//	go tool task bench -- -bench.scale=0.02 -bench.rounds=2
//
// Everything runs in the benchmark's goroutine except the playout
// client, which reports back on a channel.
package bench
