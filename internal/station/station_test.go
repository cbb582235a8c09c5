package station

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/objstore"
	"genesissync/internal/reconcile"
	"genesissync/internal/zfs"
)

func parse(t *testing.T, samba, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`
state_dir: `+t.TempDir()+`
samba: {mode: `+samba+`, service_user: nobody}
users: {studio: {password: pw}}
shares:
  studio:
    path: /srv/studio
    access: {studio: rw}
    exclude: ["*.bak"]
    target: {bucket: station, prefix: studio/, endpoint: "http://127.0.0.1:9000", region: eu-1, path_style: true,
             access_key_id: k, secret_access_key: s3cret, response_timeout: 7s}
    delete_guard: {max_files: 7, max_percent: 3}
`+extra), nil)
	require.NoError(t, err)
	return cfg
}

func TestS3OptionsFromTarget(t *testing.T) {
	o := S3Options(parse(t, "off", "").Shares["studio"].Target)
	require.Equal(t, "http://127.0.0.1:9000", o.Endpoint)
	require.Equal(t, "eu-1", o.Region)
	require.Equal(t, "station", o.Bucket)
	require.Equal(t, "studio/", o.Prefix)
	require.True(t, o.PathStyle)
	require.Equal(t, "k", o.AccessKeyID)
	require.Equal(t, "s3cret", o.SecretAccessKey, "the store gets the secret itself")
	require.Equal(t, 7*time.Second, o.ResponseTimeout)
}

func TestS3OptionsFromTargetEndpoints(t *testing.T) {
	cfg, err := config.Parse([]byte(`
users: {studio: {password: pw}}
shares:
  studio:
    path: /srv/studio
    access: {studio: rw}
    target:
      bucket: station
      access_key_id: k
      secret_access_key: s3cret
      endpoint_timeout: 3s
      endpoints:
        - http://minio-a.lan:9000
        - url: https://minio-b.example.net
          region: eu-west-1
          path_style: false
          access_key_id: kb
          secret_access_key: sb-s3cret
          write: false
        - url: https://minio-c.example.net
          credentials_file: /etc/genesissync/c.credentials
          profile: replica
          path_style: true
`), nil)
	require.NoError(t, err)
	o := S3Options(cfg.Shares["studio"].Target)
	require.Empty(t, o.Endpoint)
	require.Equal(t, 3*time.Second, o.EndpointTimeout)
	require.Equal(t, "k", o.AccessKeyID, "the target's own keys stay for the endpoints that take them")
	no, yes := false, true
	require.Equal(t, []objstore.S3Endpoint{
		{URL: "http://minio-a.lan:9000"},
		{URL: "https://minio-b.example.net", Region: "eu-west-1", PathStyle: &no,
			AccessKeyID: "kb", SecretAccessKey: "sb-s3cret", ReadOnly: true},
		{URL: "https://minio-c.example.net", PathStyle: &yes,
			CredentialsFile: "/etc/genesissync/c.credentials", Profile: "replica"},
	}, o.Endpoints, "in order; write false is read-only; empty keys stay empty for the store to fill from the target")

	one := S3Options(parse(t, "off", "").Shares["studio"].Target)
	require.Nil(t, one.Endpoints, "one endpoint: the endpoint key alone")
	require.Equal(t, config.DefaultEndpointTimeout, one.EndpointTimeout)
}

func TestOwnerAndOpenFilesBySambaMode(t *testing.T) {
	off := parse(t, "off", "")
	uid, gid, err := Owner(off)
	require.NoError(t, err)
	require.Equal(t, []int{-1, -1}, []int{uid, gid}, "with Samba off files keep the writer's owner")
	require.Nil(t, OpenFiles(off, "studio", zerolog.Nop()), "a nil interface, not a typed nil")
	require.Nil(t, OfflineOpenFiles(off, "studio", zerolog.Nop()))

	standalone := parse(t, "standalone", "")
	uid, _, err = Owner(standalone)
	require.NoError(t, err)
	require.Equal(t, 65534, uid, "the service user's uid (nobody)")
	require.NotNil(t, OpenFiles(standalone, "studio", zerolog.Nop()))
	require.Nil(t, OfflineOpenFiles(standalone, "studio", zerolog.Nop()),
		"a stopped daemon's private smbd is down with it: nothing is open")

	appliance := parse(t, "appliance", "")
	require.NotNil(t, OfflineOpenFiles(appliance, "studio", zerolog.Nop()), "the system smbd outlives the daemon")

	bad := parse(t, "standalone", "")
	bad.Samba.ServiceUser = "no-such-user-genesissync"
	_, _, err = Owner(bad)
	require.ErrorContains(t, err, "service user no-such-user-genesissync")
}

func TestRootCheck(t *testing.T) {
	sc := parse(t, "off", "").Shares["studio"]
	require.Nil(t, RootCheck(sc), "a plain directory has no dataset to check")
	sc.Dataset = "tank/studio"
	sc.Path = t.TempDir()
	check := RootCheck(sc)
	require.NotNil(t, check)
	require.Error(t, check(context.Background()), "a temp dir is not the dataset tank/studio")
}

func TestMatcherAndPipelineOptions(t *testing.T) {
	cfg := parse(t, "off", "")
	sc := cfg.Shares["studio"]
	m := Matcher(sc)
	require.True(t, m.Excluded("old.bak"), "the share's own excludes")
	require.True(t, m.Excluded("~$Playlist.docx"), "the built-in excludes")
	require.False(t, m.Excluded("Music/a.mp3"))

	o := PipelineOptions("studio", sc, nil, nil, -1, -1, zerolog.Nop())
	require.Equal(t, "studio", o.Name)
	require.Equal(t, "/srv/studio", o.Root)
	require.Equal(t, 7, o.MaxDeletes)
	require.Equal(t, 3.0, o.MaxDeletePercent)
	require.Equal(t, reconcile.Policy(sc.Delete), o.Policy)
	require.Equal(t, sc.Settle, o.Settle)
	require.Equal(t, sc.RemoteInterval, o.RemoteInterval)
	require.Nil(t, o.RootCheck)
}

func TestSnapshotOptions(t *testing.T) {
	sc := parse(t, "off", "").Shares["studio"]
	sc.Dataset = "tank/studio"
	h, d, w, m := sc.Snapshots.Keep.Counts()
	o := SnapshotOptions("studio", sc, zerolog.Nop())
	require.Equal(t, "studio", o.Share)
	require.Equal(t, "tank/studio", o.Dataset)
	require.Equal(t, "/srv/studio", o.Mountpoint)
	require.Equal(t, zfs.Retention{Hourly: h, Daily: d, Weekly: w, Monthly: m}, o.Keep)
	require.Equal(t, sc.Snapshots.Interval, o.Interval)
	require.Equal(t, sc.Snapshots.PreOpRetention, o.PreOpRetention)
}
