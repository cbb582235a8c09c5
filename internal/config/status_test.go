package config

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// demoHash is bcrypt (cost 10) of "admin-demo-password", as in the example config.
const demoHash = "$2a$10$995Bj2wgH3j6Re8XV87gxenM3klwmHWwiMWs64vKwgPWU4P/liMaa"

func TestStatusDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), nil)
	require.NoError(t, err)
	require.True(t, cfg.Status.IsPublic())
	require.True(t, cfg.Status.IsSecureCookie())
	require.Equal(t, DefaultSessionTTL, cfg.Status.SessionTTL)
	require.Empty(t, cfg.Status.Admins)
}

func TestStatusAdmins(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"ok", fmt.Sprintf("status: {listen: \"127.0.0.1:8080\", public: false, secure_cookie: false, session_ttl: 1h, admins: {alice: {password_hash: %q}}}", demoHash), ""},
		{"not bcrypt", `status: {admins: {alice: {password_hash: "plain-password"}}}`, "status.admins.alice.password_hash: is not a bcrypt hash"},
		{"missing hash", `status: {admins: {alice: {password_hash: ""}}}`, "status.admins.alice.password_hash: is required"},
		{"low cost", `status: {admins: {alice: {password_hash: "$2a$04$9Wq7qZ3G7j0lO5r2mJXZUe7Jm8i9m3qPzv1mFZ5v7mBqB6Xr6Qy9C"}}}`, "bcrypt cost 4 is too low"},
		{"bad name", fmt.Sprintf("status: {admins: {\"Bad Name\": {password_hash: %q}}}", demoHash), "admin names are lower-case"},
		{"short ttl", "status: {session_ttl: 10s}", "status.session_ttl: must be at least 1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(minimal+tt.yaml+"\n"), nil)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "plain-password", "a bad hash is never echoed")
				return
			}
			require.NoError(t, err)
			require.False(t, cfg.Status.IsPublic())
			require.False(t, cfg.Status.IsSecureCookie())
			require.Equal(t, time.Hour, cfg.Status.SessionTTL)
			require.Equal(t, map[string]string{"alice": demoHash}, cfg.Status.AdminHashes())
			require.NotContains(t, fmt.Sprintf("%v %+v %#v", cfg.Status, cfg.Status, cfg.Status), demoHash, "hashes print masked")
		})
	}
}
