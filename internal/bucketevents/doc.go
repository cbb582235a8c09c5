// Package bucketevents owns the appliance's receiving end of bucket event
// notifications: an HTTP endpoint for MinIO's webhook notification target
// (notify_webhook) that turns "this object was created or removed" into a
// nudge for the share pipeline that mirrors the object's key.
//
// A request is checked (POST, a bearer token compared in constant time, a
// bounded body), parsed (the S3 event notification JSON MinIO sends, keys
// URL-decoded), routed to shares by bucket name and key prefix, stripped of
// the prefix and validated with keymap.LocalPath; each accepted path is
// handed to its target's Notify, and the request is answered at once.
//
// # What it must never do
//
//   - read or write a file or an object, or decide anything: an event only
//     says "look at this key now". The pipeline HEADs the object and plans
//     from fresh state; the periodic bucket listing remains the source of
//     truth and catches every event that was lost, refused or never sent;
//   - trust a key: keys are untrusted input, and a key that keymap refuses
//     is logged and dropped here (the listing reports it on the status page);
//   - log, echo or compare in variable time the token, or log a request
//     body;
//   - make MinIO wait or retry for an event it cannot use: MinIO sends one
//     event per request and, with a queue_dir, retries a non-2xx answer
//     every 3 s while the events behind it wait. Events of no interest,
//     unknown buckets and refused keys are answered 200. Only requests that
//     MinIO would never send (wrong method, bad token, malformed or
//     oversized body) get an error status.
//
// # Concurrency
//
// Parse is pure. The handler returned by NewHandler and a Server are safe
// for concurrent use (MinIO sends from several workers at once); each
// Target's Notify is called from request goroutines, concurrently.
package bucketevents
