package bucketevents

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Event is one record of a bucket event notification, its key decoded.
type Event struct {
	// Name is the S3 event name, e.g. "s3:ObjectCreated:Put".
	Name   string
	Bucket string
	// Key is the object's full key (with any share prefix), decoded.
	Key string
	// Size and ETag are as MinIO reported them; MinIO leaves them out of
	// removal events.
	Size int64
	ETag string
	// KeyErr is set when the key as sent could not be decoded; Key is
	// then empty and the record cannot be used.
	KeyErr error
}

// Changes reports whether the event may have created, replaced or removed
// the object: the ObjectCreated and ObjectRemoved families, including
// metadata-only variants such as PutTagging (they cost the pipeline one
// HEAD). Reads, replication, transition, restore, scanner and bucket
// events and s3:TestEvent do not.
func (e Event) Changes() bool {
	return strings.HasPrefix(e.Name, "s3:ObjectCreated:") || strings.HasPrefix(e.Name, "s3:ObjectRemoved:")
}

// message is the body MinIO's webhook target posts (event.Log in MinIO).
// Only Records, the S3 notification format that AWS documents and other
// senders share, is used.
type message struct {
	EventName string   `json:"EventName"`
	Key       string   `json:"Key"`
	Records   []record `json:"Records"`
}

type record struct {
	EventName string `json:"eventName"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
			ETag string `json:"eTag"`
		} `json:"object"`
	} `json:"s3"`
}

// Parse decodes a notification body into its records, in order. A body
// that is not a JSON object is an error; a body without records (such as
// S3's test event, {"Event": "s3:TestEvent", ...}) is none. A record whose
// key cannot be decoded is returned with KeyErr set, so that the caller
// can report it and use the others. Parse is pure.
//
// Keys arrive query-escaped (Go's url.QueryEscape in MinIO, the same form
// AWS uses): '+' is a space, "%2B" a plus, "%2F" a slash, and non-ASCII
// bytes are percent-encoded UTF-8.
func Parse(data []byte) ([]Event, error) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse bucket event: %w", err)
	}
	events := make([]Event, 0, len(m.Records))
	for _, r := range m.Records {
		e := Event{
			Name:   r.EventName,
			Bucket: r.S3.Bucket.Name,
			Size:   r.S3.Object.Size,
			ETag:   strings.Trim(r.S3.Object.ETag, `"`),
		}
		e.Key, e.KeyErr = decodeKey(r.S3.Object.Key)
		events = append(events, e)
	}
	return events, nil
}

// decodeKey undoes MinIO's url.QueryEscape of an object key.
func decodeKey(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("record has no object key")
	}
	k, err := url.QueryUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("object key %q: %w", raw, err)
	}
	return k, nil
}
