// Package endpoints owns the probing and reporting of the appliance's
// targets: for each bucket its shares sync with, every endpoint's
// reachability and latency (one HeadBucket per endpoint every target
// probe_interval, and with backoff from a second while it is down) and
// what the target can do (the capability probe, at start and hourly),
// with the event log told when an endpoint stops or starts answering.
// Status gives it to the model the page, the API, the metrics and the
// alerts read.
//
// A target with several endpoints is one objstore.S3 that routes each
// request down its health-ordered line and keeps every endpoint's
// health from the requests' outcomes (objstore's s3_endpoints.go). This
// package probes each endpoint through that store, so that its probes
// keep the same health, and reports it; it never routes a request.
//
// It must never move share data, decide what to sync or retry a
// transfer; it only asks the store whether the bucket answers and what
// it supports. It reaches the store through the small Store interface
// and never imports the AWS SDK.
package endpoints
