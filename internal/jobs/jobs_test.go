package jobs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/restore"
)

func TestOneRunningJobPerShare(t *testing.T) {
	tb := New()
	h, ctx, err := tb.Begin("studio", Verify)
	require.NoError(t, err)
	require.Equal(t, context.Background(), ctx)
	_, _, err = tb.Begin("studio", Restore)
	require.ErrorContains(t, err, "share studio: verify job "+h.ID()+" is still running")
	_, _, err = tb.Begin("news", Restore)
	require.NoError(t, err, "another share's job runs beside it")

	require.NotNil(t, tb.Share("studio").Running)
	h.Progress(restore.Progress{Files: 3})
	got, ok := tb.Get("studio", Verify, h.ID())
	require.True(t, ok)
	require.Equal(t, Running, got.State)
	require.Equal(t, 3, got.Progress.Files)
	_, ok = tb.Get("news", Verify, h.ID())
	require.False(t, ok, "a job is found only under its own share and kind")
	_, ok = tb.Get("studio", Restore, h.ID())
	require.False(t, ok)

	h.Finish(nil, func(j *Job) { j.Verify = &restore.Report{Checked: 7} })
	s := tb.Share("studio")
	require.Nil(t, s.Running)
	require.NotNil(t, s.LastVerify)
	require.Equal(t, 7, s.LastVerify.Verify.Checked)
	_, _, err = tb.Begin("studio", Restore)
	require.NoError(t, err, "the share is free again once its job finished")
}

func TestLastVerifyIsOnlyVerifies(t *testing.T) {
	tb := New()
	h, _, err := tb.Begin("studio", Restore)
	require.NoError(t, err)
	h.Finish(errors.New("boom"), nil)
	require.Nil(t, tb.Share("studio").LastVerify)
	j, ok := tb.Get("studio", Restore, h.ID())
	require.True(t, ok)
	require.Equal(t, Failed, j.State)
	require.Equal(t, "boom", j.Error, "Finish records the error")
}

func TestParentAndNext(t *testing.T) {
	tb := New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tb.SetParent(ctx)
	_, got, err := tb.Begin("studio", Verify)
	require.NoError(t, err)
	require.Equal(t, ctx, got)
	at := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	tb.SetNext("studio", at)
	require.Equal(t, at, tb.Share("studio").NextVerify)
	require.True(t, tb.Share("news").NextVerify.IsZero())
}

func TestForgetsOldestFinishedJobs(t *testing.T) {
	tb := New()
	var first string
	for i := range keep + 5 {
		h, _, err := tb.Begin(fmt.Sprint("share", i), Verify)
		require.NoError(t, err)
		if i == 0 {
			first = h.ID()
		}
		h.Finish(nil, nil)
	}
	_, ok := tb.Get("share0", Verify, first)
	require.False(t, ok, "the oldest finished job is forgotten past %d", keep)
	require.Len(t, tb.byID, keep)
	require.NotNil(t, tb.Share("share0").LastVerify, "a share's last verify outlives the list")
}

func TestKeepsRunningJobs(t *testing.T) {
	tb := New()
	h, _, err := tb.Begin("long", Restore)
	require.NoError(t, err)
	for i := range keep + 5 {
		h2, _, err := tb.Begin(fmt.Sprint("share", i), Verify)
		require.NoError(t, err)
		h2.Finish(nil, nil)
	}
	_, ok := tb.Get("long", Restore, h.ID())
	require.True(t, ok, "a running job is never forgotten")
}
