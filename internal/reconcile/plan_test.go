package reconcile

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/index"
	"genesissync/internal/scan"
)

func TestPlanLocal(t *testing.T) {
	mt := time.Unix(1_700_000_000, 0).UTC()
	settled := index.Entry{Size: 10, Mtime: mt, Inode: 7, SHA256: "x", HashedAt: mt.Add(time.Minute)}
	racy := settled
	racy.HashedAt = mt.Add(500 * time.Millisecond)
	cases := []struct {
		name string
		f    scan.File
		base *index.Entry
		want LocalDecision
	}{
		{"new file", scan.File{Size: 10, Mtime: mt, Inode: 7}, nil, Check},
		{"unchanged", scan.File{Size: 10, Mtime: mt, Inode: 7}, &settled, InSync},
		{"size changed", scan.File{Size: 11, Mtime: mt, Inode: 7}, &settled, Check},
		{"mtime changed", scan.File{Size: 10, Mtime: mt.Add(time.Second), Inode: 7}, &settled, Check},
		{"mtime went back", scan.File{Size: 10, Mtime: mt.Add(-time.Second), Inode: 7}, &settled, Check},
		{"replaced by rename (new inode)", scan.File{Size: 10, Mtime: mt, Inode: 8}, &settled, Check},
		{"racy base is re-checked", scan.File{Size: 10, Mtime: mt, Inode: 7}, &racy, Check},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, PlanLocal(tc.f, tc.base))
		})
	}
}

func TestRacy(t *testing.T) {
	mt := time.Unix(1_700_000_000, 0)
	require.True(t, Racy(index.Entry{Mtime: mt, HashedAt: mt}))
	require.True(t, Racy(index.Entry{Mtime: mt, HashedAt: mt.Add(1999 * time.Millisecond)}))
	require.False(t, Racy(index.Entry{Mtime: mt, HashedAt: mt.Add(2001 * time.Millisecond)}))
}
