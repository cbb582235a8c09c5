//go:build providers

package e2e

import (
	"testing"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestSeaweedFS runs the appliance against a third S3 implementation,
// SeaweedFS (weed server -s3), behind the providers build tag (`go tool
// task test-providers`): see runProvider.
func TestSeaweedFS(t *testing.T) {
	w := harness.StartSeaweedFS(t)
	runProvider(t, harness.S3Server{Endpoint: w.Endpoint, AccessKey: w.AccessKey, SecretKey: w.SecretKey}, providerWant{
		URLEncoding: objstore.TriYes,
		// versioning and Object Lock off
		Degradations: 2,
	})
}
