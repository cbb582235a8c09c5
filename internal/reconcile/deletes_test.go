package reconcile

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrips(t *testing.T) {
	cases := []struct {
		n, tracked int
		want       bool
	}{
		{0, 100, false},
		{1, 1, false},  // one delete never trips the percentage
		{2, 20, false}, // exactly 10 %
		{3, 20, true},  // 15 %
		{50, 1000, false},
		{51, 10000, true}, // over the count
		{200, 210, true},
		{10, 1000, false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, Trips(tc.n, tc.tracked, DefaultMaxDeletes, DefaultMaxDeletePercent), "%d of %d", tc.n, tc.tracked)
	}
}

func TestBatchIDNamesTheBatch(t *testing.T) {
	a := map[string]heldDelete{"x": {action: DeleteRemote}, "y": {action: DeleteLocal}}
	b := map[string]heldDelete{"y": {action: DeleteLocal}, "x": {action: DeleteRemote}}
	require.Equal(t, batchID(a), batchID(b), "order does not matter")
	b["z"] = heldDelete{action: DeleteRemote}
	require.NotEqual(t, batchID(a), batchID(b), "a delete added after the batch was shown changes its ID")
	c := map[string]heldDelete{"x": {action: DeleteLocal}, "y": {action: DeleteLocal}}
	require.NotEqual(t, batchID(a), batchID(c), "the direction of a delete is part of the batch")
}
