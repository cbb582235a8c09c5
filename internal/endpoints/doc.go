// Package endpoints owns the health of the appliance's targets as the
// appliance sees it: for each bucket its shares sync with, every
// endpoint's reachability and latency (one HeadBucket per endpoint every
// 30 s) and what the target can do (the capability probe, at start and
// hourly), with the event log told when an endpoint stops or starts
// answering. Status gives it to the model the page, the API, the metrics
// and the alerts read.
//
// It is the home of a target's endpoints: today each target has one;
// the order of several by health and the failover between them belong
// here too.
//
// It must never move share data, decide what to sync or retry a
// transfer; it only asks the store whether the bucket answers and what
// it supports. It reaches the store through the small Store interface
// and never imports the AWS SDK.
package endpoints
