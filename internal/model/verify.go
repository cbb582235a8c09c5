package model

import "time"

// Verify is a share's integrity check state: the schedule, the last
// finished verify and the running job, if any.
type Verify struct {
	// Interval is the schedule's period; 0 means verify runs on demand
	// only.
	Interval time.Duration `json:"interval_ns"`
	// NextRun is when the next scheduled verify starts; zero without a
	// schedule.
	NextRun time.Time `json:"next_run,omitempty"`

	// LastRun is when the last finished verify ended; zero if none has.
	LastRun time.Time `json:"last_run,omitempty"`
	// LastJob is that verify's job id.
	LastJob string `json:"last_job,omitempty"`
	// Mode is "stored" (index and metadata hashes) or "deep" (data read).
	Mode string `json:"mode,omitempty"`
	// SamplePercent is the part of the files whose content was checked.
	SamplePercent float64 `json:"sample_percent,omitempty"`
	// Checked counts the files whose content the last verify compared.
	Checked int `json:"checked"`
	// Pending counts differences the sync engine was still working on.
	Pending int `json:"pending"`
	// Mismatches counts the problems the last finished verify found.
	Mismatches int `json:"mismatches"`
	// Warnings counts its findings that are not mismatches (objects
	// without hash metadata, refused names).
	Warnings int `json:"warnings"`
	// Problems are the first of its findings, by path.
	Problems []VerifyProblem `json:"problems,omitempty"`
	// Error is why the last verify could not run; empty if it ran.
	Error string `json:"error,omitempty"`

	// Running is the verify or restore job in progress, if any.
	Running *Job `json:"running,omitempty"`
}

// VerifyProblem is one finding of a verify.
type VerifyProblem struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
}

// Job is a running verify or restore.
type Job struct {
	ID         string        `json:"id"`
	Kind       string        `json:"kind"` // "verify" or "restore"
	StartedAt  time.Time     `json:"started_at"`
	Phase      string        `json:"phase"`
	Files      int           `json:"files"`
	FilesTotal int           `json:"files_total"`
	Bytes      int64         `json:"bytes"`
	BytesTotal int64         `json:"bytes_total"`
	Rate       float64       `json:"rate_bytes_per_s"`
	ETA        time.Duration `json:"eta_ns"`
}
