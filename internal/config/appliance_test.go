package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestApplianceDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), nil)
	require.NoError(t, err)
	host, _ := os.Hostname()
	want, _, _ := strings.Cut(strings.ToLower(host), ".")
	require.Equal(t, want, cfg.Appliance.Name, "the host name's first label")
	require.Equal(t, DefaultApplianceStaleAfter, cfg.Appliance.StaleAfter)
	require.Equal(t, DefaultApplianceHeartbeatInterval, cfg.Appliance.HeartbeatInterval)

	cfg, err = Parse([]byte(minimal+"\nappliance: {name: studio-b, stale_after: 5m}\n"), nil)
	require.NoError(t, err)
	require.Equal(t, "studio-b", cfg.Appliance.Name)
	require.Equal(t, 5*time.Minute, cfg.Appliance.StaleAfter)
}

func TestApplianceNameIsChecked(t *testing.T) {
	for _, name := range []string{"Studio-B", "studio_b", "-studio", "studio b", "studio.b", `"x/../y"`, strings.Repeat("a", 64)} {
		_, err := Parse([]byte(minimal+"\nappliance: {name: "+name+"}\n"), nil)
		require.ErrorContains(t, err, "appliance.name: must be lower-case letters, digits and hyphens", name)
	}
	_, err := Parse([]byte(minimal+"\nappliance: {stale_after: -1m}\n"), nil)
	require.ErrorContains(t, err, "appliance.stale_after: must be positive")
	_, err = Parse([]byte(minimal+"\nappliance: {heartbeat_interval: 10m}\n"), nil)
	require.ErrorContains(t, err, "appliance.heartbeat_interval: must be at most a third of appliance.stale_after (15m0s)")
	cfg, err := Parse([]byte(minimal+"\nappliance: {heartbeat_interval: 1s, stale_after: 5s}\n"), nil)
	require.NoError(t, err)
	require.Equal(t, time.Second, cfg.Appliance.HeartbeatInterval)
	require.True(t, ValidApplianceName("studio-b2"))
	require.True(t, ValidApplianceName(strings.Repeat("a", 63)))
	require.False(t, ValidApplianceName(""))
}
