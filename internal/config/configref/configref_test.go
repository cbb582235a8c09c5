package configref

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite docs/config.md")

const docPath = "../../../docs/config.md"

// TestReferenceIsCurrent fails when docs/config.md is not what the config
// package's code and comments say today.
func TestReferenceIsCurrent(t *testing.T) {
	got, err := Generate("..")
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile(docPath, got, 0o644))
	}
	want, err := os.ReadFile(docPath)
	require.NoError(t, err, "docs/config.md is missing: run go tool task docs")
	require.Equal(t, string(want), string(got),
		"docs/config.md is stale: run go tool task docs (go test ./internal/config/configref -update)")
}

func TestGenerate(t *testing.T) {
	got, err := Generate("..")
	require.NoError(t, err)
	doc := string(got)
	for _, tc := range []struct{ name, want string }{
		{"top-level key with its default", "| `state_dir` | string | `/var/lib/genesissync` |"},
		{"share key under the placeholder", "| `shares.<name>.settle` | duration | `2s` |"},
		{"nested struct section", "## `shares.<name>.target`"},
		{"pointer default", "| `shares.<name>.snapshots.keep.hourly` | integer | `48` |"},
		{"secret never shows a value", "| `shares.<name>.target.secret_access_key` | secret | — |"},
		{"machine-dependent default in words", "| `alerts.name` | string | the host name |"},
		{"list of structs", "## `alerts.webhooks[]`"},
		{"doc comment as description", "| Settle is how long a file must see no change before it is read. |"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, doc, tc.want)
		})
	}
}

// TestUndocumentedFieldFails: a key whose field has no doc comment stops
// generation, naming the key.
func TestUndocumentedFieldFails(t *testing.T) {
	dir := t.TempDir()
	files, err := filepath.Glob("../*.go")
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		if filepath.Base(f) == "config.go" {
			s := string(data)
			old := "\t// Settle is how long a file must see no change before it is read.\n"
			require.Contains(t, s, old)
			data = []byte(strings.Replace(s, old, "", 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644))
	}
	_, err = Generate(dir)
	require.ErrorContains(t, err, "shares.<name>.settle (Share.Settle)")
}
