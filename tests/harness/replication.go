package harness

import (
	"net/url"
	"testing"
)

// ReplicateBucket has MinIO replicate bucket from one server to another
// with the pinned MinIO client, as a station sets up a LAN MinIO and a
// cloud copy: versioning on both sides, then `mc replicate add` of every
// object, delete and delete marker, existing objects included. link is
// the host:port through which from reaches to (to's own address, or a
// FaultProxy in front of it, to lag or cut the replication). MinIO checks
// the link every 5 s. Call it both ways for active-active replication.
// The bucket must exist on both servers.
func ReplicateBucket(t testing.TB, from, to *MinIO, bucket, link string) {
	t.Helper()
	from.MC(t, nil, "version", "enable", "t/"+bucket)
	to.MC(t, nil, "version", "enable", "t/"+bucket)
	remote := url.URL{Scheme: "http", User: url.UserPassword(to.AccessKey, to.SecretKey), Host: link, Path: "/" + bucket}
	from.MC(t, nil, "replicate", "add", "t/"+bucket, "--remote-bucket", remote.String(),
		"--priority", "1", "--replicate", "delete-marker,delete,existing-objects,metadata-sync",
		"--healthcheck-seconds", "5", "--disable-proxy")
}
