package eventlog

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRecentNewestFirstAndBounded(t *testing.T) {
	l := New(3)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		l.Add(Event{Time: base.Add(time.Duration(i) * time.Second), Kind: fmt.Sprint(i)})
	}
	got := l.Recent(0)
	require.Len(t, got, 3)
	require.Equal(t, []string{"4", "3", "2"}, []string{got[0].Kind, got[1].Kind, got[2].Kind})
	require.Len(t, l.Recent(2), 2)
	require.Equal(t, "4", l.Recent(1)[0].Kind)
}

func TestPartialAndStamp(t *testing.T) {
	l := New(10)
	require.Empty(t, l.Recent(5))
	l.Add(Event{Kind: "a"})
	got := l.Recent(5)
	require.Len(t, got, 1)
	require.False(t, got[0].Time.IsZero())
	var nilLog *Log
	nilLog.Add(Event{Kind: "dropped"})
	require.Nil(t, nilLog.Recent(1))
}
