// Package endpoints owns the health of the appliance's targets as the
// appliance sees it: for each bucket its shares sync with, every
// endpoint's reachability and latency (one HeadBucket per endpoint every
// 30 s) and what the target can do (the capability probe, at start and
// hourly), with the event log told when an endpoint stops or starts
// answering. Status gives it to the model the page, the API, the metrics
// and the alerts read.
//
// It is the home of a target's endpoints: a target has one, and ordering
// several by health and failing over between them belong here.
//
// It must never move share data, decide what to sync or retry a
// transfer; it only asks the store whether the bucket answers and what
// it supports. It reaches the store through the small Store interface
// and never imports the AWS SDK.
package endpoints
