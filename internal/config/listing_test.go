package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestListingGrace(t *testing.T) {
	for _, tc := range []struct{ interval, want time.Duration }{
		{DefaultRemoteInterval, MinListingGrace},
		{time.Second, MinListingGrace},
		{10 * time.Minute, 30 * time.Minute},
	} {
		s := &Share{RemoteInterval: tc.interval}
		require.Equal(t, tc.want, s.ListingGrace(), "remote_interval %s", tc.interval)
	}
}
