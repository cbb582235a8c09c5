package model

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0:             "0 B",
		1023:          "1023 B",
		1024:          "1.0 KiB",
		1536:          "1.5 KiB",
		32 << 20:      "32.0 MiB",
		5 << 30:       "5.0 GiB",
		3 << 40:       "3.0 TiB",
		1<<62 + 1<<61: "6.0 EiB",
	} {
		require.Equal(t, want, HumanBytes(n), "%d bytes", n)
	}
}
