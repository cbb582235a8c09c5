package model

import "time"

// HistoryPoint is one minute of a share's last day, for the status page's
// charts: the largest backlog and recovery point seen in the minute, and
// the average transfer rates over the part of it that was sampled.
type HistoryPoint struct {
	At                     time.Time `json:"at"` // the minute's start
	Backlog                int       `json:"backlog"`
	UploadBytesPerSecond   float64   `json:"upload_bytes_per_second"`
	DownloadBytesPerSecond float64   `json:"download_bytes_per_second"`
	RecoveryPointSeconds   float64   `json:"recovery_point_seconds"`
}
