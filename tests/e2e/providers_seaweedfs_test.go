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
	// Degraded: versioning and Object Lock.
	runProvider(t, harness.StartSeaweedFS(t).S3Server, providerWant{URLEncoding: objstore.TriYes, Degradations: 2})
}
