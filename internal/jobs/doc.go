// Package jobs owns the table of a daemon run's long-running share jobs
// (verify and restore): at most one running per share, the finished ones
// kept for their results, the last verify of each share, and the time of
// each share's next scheduled verify.
//
// It runs nothing itself: whoever starts a job's work calls Begin, reports
// progress and calls Finish. It never touches a share or a bucket.
package jobs
