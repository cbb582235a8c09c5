package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVerifyPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		period     time.Duration
		sample     float64
		deep       bool
		err        string
	}{
		{"defaults", "", DefaultVerifyInterval, DefaultVerifySamplePercent, false, ""},
		{"set", "    verify: {interval: 6h, sample_percent: 100, deep: true}\n", 6 * time.Hour, 100, true, ""},
		{"off", "    verify: {interval: 0}\n", 0, DefaultVerifySamplePercent, false, ""},
		{"negative", "    verify: {interval: -1h}\n", 0, 0, false, "shares.studio.verify.interval"},
		{"too often", "    verify: {interval: 10s}\n", 0, 0, false, "shares.studio.verify.interval"},
		{"sample", "    verify: {sample_percent: 150}\n", 0, 0, false, "shares.studio.verify.sample_percent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(minimal+tc.yaml), nil)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			v := cfg.Shares["studio"].Verify
			require.Equal(t, tc.period, v.Period())
			require.Equal(t, tc.sample, v.SamplePercent)
			require.Equal(t, tc.deep, v.Deep)
		})
	}
}
