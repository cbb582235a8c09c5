// Package eventlog keeps the appliance's recent notable events (an alert
// raised or resolved, a snapshot taken, a rollback, a verify that found a
// mismatch) in memory for the status page and API. It never persists and
// never sends anything: alerts decide what leaves the box, the daemon's
// zerolog output is the durable record.
package eventlog
