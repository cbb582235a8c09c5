// Package bench measures the appliance against real smbd and MinIO:
// close-on-share to object-in-bucket latency and upload throughput, with
// the raw aws-sdk-go-v2 PUT rate against the same MinIO as the ceiling.
// Run it with `go tool task bench`; results are reported as benchmark
// metrics, never asserted. (Side-by-side runs with mc and rclone arrive
// with the benchmark issue.)
package bench
