package samba

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/zfs"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test -update")
	require.Equal(t, string(want), string(got), "output differs from %s: run go test -update if intended", path)
}

func testGlobal() Global {
	return Global{
		Listen:      "127.0.0.1",
		Port:        445,
		RunDir:      "/var/lib/genesissync/samba",
		ServiceUser: "genesissync",
		Workgroup:   "WORKGROUP",
		NetbiosName: "GENESISSYNC",
	}
}

func testShares() []ShareDef {
	return []ShareDef{
		{
			// Out of order on purpose: output is sorted by name.
			Name:      "studio-b",
			Path:      "/srv/media/studio b",
			ReadWrite: []string{"producer"},
			ForceUser: "genesissync",
		},
		{
			Name:      "playout",
			Path:      "/tank/playout",
			Comment:   "Playout library: Studio #1 [main] = 'live'",
			ReadWrite: []string{"studio", "automation", "studio"},
			ReadOnly:  []string{"player2", "player1"},
			ForceUser: "genesissync",
			// Previous Versions from OpenZFS's snapshot directory.
			ShadowSnapdir: ".zfs/snapshot",
		},
	}
}

func TestRenderGolden(t *testing.T) {
	allIfaces := testGlobal()
	allIfaces.Listen = "0.0.0.0"
	allIfaces.Port = 4445

	tests := []struct {
		name   string
		golden string
		render func() ([]byte, error)
	}{
		{"standalone", "standalone.golden", func() ([]byte, error) { return Render(testGlobal(), testShares()) }},
		{"standalone all interfaces, no shares", "standalone-noshares.golden", func() ([]byte, error) { return Render(allIfaces, nil) }},
		{"include", "include.golden", func() ([]byte, error) { return RenderInclude(testShares()) }},
		{"include, no shares", "include-noshares.golden", func() ([]byte, error) { return RenderInclude(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.render()
			require.NoError(t, err)
			golden(t, tt.golden, got)
		})
	}
}

// TestRenderTestparm runs the real testparm over rendered output: every
// parameter must be known and every value valid.
func TestRenderTestparm(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	g := testGlobal()
	g.RunDir = filepath.Join(dir, "run")
	require.NoError(t, MakeRunDirs(g))

	standalone, err := Render(g, testShares())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(g.ConfigPath(), standalone, 0o644))
	require.NoError(t, Testparm(ctx, g.ConfigPath()))

	// Appliance mode: a system-like smb.conf whose [global] section
	// includes the share definitions.
	odd := ShareDef{Name: "odd", Path: "/srv/Música (main) & co/jingles_2024", ReadWrite: []string{"alice"}, ForceUser: "gs"}
	inc, err := RenderInclude(append(testShares(), odd))
	require.NoError(t, err)
	incPath := filepath.Join(dir, "shares.conf")
	require.NoError(t, WriteInclude(incPath, inc))
	global, err := Render(g, nil)
	require.NoError(t, err)
	mainPath := filepath.Join(dir, "smb.conf")
	require.NoError(t, os.WriteFile(mainPath, append(global, []byte("\tinclude = "+incPath+"\n")...), 0o644))
	require.NoError(t, Testparm(ctx, mainPath))

	// The comment's #, ;, [, ] and = are literal text to Samba, not syntax.
	out, err := dumpTestparm(ctx, mainPath)
	require.NoError(t, err)
	require.Contains(t, out, "comment = Playout library: Studio #1 [main] = 'live'")
	require.Contains(t, out, "[studio-b]")
	require.Contains(t, out, "\tpath = /srv/Música (main) & co/jingles_2024\n")
}

// dumpTestparm returns testparm's dump of a configuration.
func dumpTestparm(ctx context.Context, path string) (string, error) {
	out, _, err := (execRunner{}).run(ctx, nil, "testparm", "-s", "--suppress-prompt", path)
	return string(out), err
}

func TestTestparmRejects(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name, conf, want string
	}{
		{"unknown parameter", "[global]\n\tno such parameter = 1\n", `Unknown parameter encountered: "no such parameter"`},
		{"bad boolean", "[x]\n\tpath = /tmp\n\tread only = maybe\n", "not boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".conf")
			require.NoError(t, os.WriteFile(p, []byte(tt.conf), 0o644))
			err := Testparm(ctx, p)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.Contains(t, err.Error(), p)
		})
	}
}

func TestTestparmComplaint(t *testing.T) {
	tests := []struct {
		name, stderr, want string
	}{
		{"clean", "Load smb config files from /x/error/smb.conf\nLoaded services file OK.\nWeak crypto is allowed by GnuTLS (e.g. NTLM as a compatibility fallback)\n\nServer role: ROLE_STANDALONE\n", ""},
		{"unknown", "Load smb config files from x\nUnknown parameter encountered: \"foo\"\nIgnoring unknown parameter \"foo\"\nLoaded services file OK.\n",
			`Unknown parameter encountered: "foo"; Ignoring unknown parameter "foo"`},
		{"missing dir", "ERROR: state directory /x does not exist\nWARNING: pid directory /y does not exist\n",
			"ERROR: state directory /x does not exist; WARNING: pid directory /y does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, testparmComplaint(tt.stderr))
		})
	}
}

func TestRenderRejectsHostileInput(t *testing.T) {
	share := func(mod func(*ShareDef)) []ShareDef {
		d := ShareDef{Name: "media", Path: "/srv/media", ReadWrite: []string{"alice"}, ForceUser: "genesissync"}
		mod(&d)
		return []ShareDef{d}
	}
	global := func(mod func(*Global)) Global {
		g := testGlobal()
		mod(&g)
		return g
	}
	tests := []struct {
		name   string
		g      Global
		shares []ShareDef
		want   string
	}{
		// Share names.
		{"name with newline and section", testGlobal(), share(func(d *ShareDef) { d.Name = "x\n[global]" }), `share "x\n[global]": invalid name`},
		{"name global", testGlobal(), share(func(d *ShareDef) { d.Name = "global" }), `share "global": invalid name: reserved`},
		{"name homes", testGlobal(), share(func(d *ShareDef) { d.Name = "homes" }), `share "homes": invalid name: reserved`},
		{"name printers", testGlobal(), share(func(d *ShareDef) { d.Name = "printers" }), `share "printers": invalid name: reserved`},
		{"name ipc$", testGlobal(), share(func(d *ShareDef) { d.Name = "ipc$" }), `share "ipc$": invalid name`},
		{"name brackets", testGlobal(), share(func(d *ShareDef) { d.Name = "[media]" }), `share "[media]": invalid name`},
		{"name semicolon", testGlobal(), share(func(d *ShareDef) { d.Name = "media;x" }), `share "media;x": invalid name`},
		{"name equals", testGlobal(), share(func(d *ShareDef) { d.Name = "a=b" }), `share "a=b": invalid name`},
		{"name quote", testGlobal(), share(func(d *ShareDef) { d.Name = `me"dia` }), `share "me\"dia": invalid name`},
		{"name upper case", testGlobal(), share(func(d *ShareDef) { d.Name = "Media" }), `share "Media": invalid name`},
		{"name empty", testGlobal(), share(func(d *ShareDef) { d.Name = "" }), `share "": invalid name`},
		{"name too long", testGlobal(), share(func(d *ShareDef) { d.Name = strings.Repeat("a", 65) }), `invalid name`},
		{"name leading dash", testGlobal(), share(func(d *ShareDef) { d.Name = "-media" }), `share "-media": invalid name`},
		{"duplicate share", testGlobal(), append(share(func(*ShareDef) {}), share(func(*ShareDef) {})...), `share "media": defined twice`},

		// Previous Versions snapshot directory.
		{"snapdir with newline", testGlobal(), share(func(d *ShareDef) { d.ShadowSnapdir = ".zfs/snapshot\nroot preexec = /bin/sh" }), `share "media": snapshot directory`},
		{"snapdir absolute", testGlobal(), share(func(d *ShareDef) { d.ShadowSnapdir = "/etc" }), `share "media": snapshot directory "/etc"`},
		{"snapdir dotdot", testGlobal(), share(func(d *ShareDef) { d.ShadowSnapdir = "../other" }), `share "media": snapshot directory "../other"`},
		{"snapdir macro", testGlobal(), share(func(d *ShareDef) { d.ShadowSnapdir = "snaps%U" }), `share "media": snapshot directory "snaps%U"`},

		// Paths.
		{"path with include", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/media\ninclude = /etc/passwd" }), `share "media": path "/srv/media\ninclude = /etc/passwd"`},
		{"path with section", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv\n[global]" }), `share "media": path "/srv\n[global]"`},
		{"path relative", testGlobal(), share(func(d *ShareDef) { d.Path = "srv/media" }), `path "srv/media": not absolute`},
		{"path unclean", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/../etc" }), `path "/srv/../etc": not clean`},
		{"path trailing slash", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/media/" }), `not clean`},
		{"path root", testGlobal(), share(func(d *ShareDef) { d.Path = "/" }), `path "/": the root directory`},
		{"path semicolon", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/a;b" }), `path "/srv/a;b": contains one of`},
		{"path hash", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/a#b" }), `path "/srv/a#b": contains one of`},
		{"path quote", testGlobal(), share(func(d *ShareDef) { d.Path = `/srv/"a"` }), `contains one of`},
		{"path single quote", testGlobal(), share(func(d *ShareDef) { d.Path = `/srv/a'b` }), `contains one of`},
		{"path macro", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/%U" }), `path "/srv/%U": contains one of`},
		{"path backslash continuation", testGlobal(), share(func(d *ShareDef) { d.Path = `/srv/media\` }), `contains one of`},
		{"path equals", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/a=b" }), `contains one of`},
		{"path NUL", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/a\x00b" }), `control`},
		{"path trailing space", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/media " }), `spaces`},
		{"path brackets", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/[global]" }), `contains one of`},
		{"path tab", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/a\tb" }), `control`},
		{"path invalid utf8", testGlobal(), share(func(d *ShareDef) { d.Path = "/srv/\xff" }), `not valid UTF-8`},
		{"path empty", testGlobal(), share(func(d *ShareDef) { d.Path = "" }), `path "": empty`},

		// Comments.
		{"comment newline", testGlobal(), share(func(d *ShareDef) { d.Comment = "hi\n[global]\ninclude = /etc/passwd" }), `share "media": comment "hi\n[global]\ninclude = /etc/passwd": control`},
		{"comment CR", testGlobal(), share(func(d *ShareDef) { d.Comment = "hi\rthere" }), `control`},
		{"comment macro", testGlobal(), share(func(d *ShareDef) { d.Comment = "%U" }), `contains %`},
		{"comment continuation", testGlobal(), share(func(d *ShareDef) { d.Comment = `studio\` }), `line continuation`},
		{"comment double quote", testGlobal(), share(func(d *ShareDef) { d.Comment = `"studio"` }), `double quote`},
		{"comment leading space", testGlobal(), share(func(d *ShareDef) { d.Comment = " studio" }), `leading or trailing space`},
		{"comment too long", testGlobal(), share(func(d *ShareDef) { d.Comment = strings.Repeat("x", 257) }), `longer than 256`},
		{"comment invalid utf8", testGlobal(), share(func(d *ShareDef) { d.Comment = "\xff" }), `not valid UTF-8`},

		// Users.
		{"user newline", testGlobal(), share(func(d *ShareDef) { d.ReadWrite = []string{"alice\nforce user = root"} }), `share "media": user "alice\nforce user = root": invalid user name`},
		{"user group syntax", testGlobal(), share(func(d *ShareDef) { d.ReadOnly = []string{"@staff"} }), `user "@staff": invalid user name`},
		{"user list syntax", testGlobal(), share(func(d *ShareDef) { d.ReadWrite = []string{"alice, bob"} }), `user "alice, bob": invalid user name`},
		{"user semicolon", testGlobal(), share(func(d *ShareDef) { d.ReadWrite = []string{"a;b"} }), `user "a;b": invalid user name`},
		{"user quote", testGlobal(), share(func(d *ShareDef) { d.ReadWrite = []string{`a"b`} }), `invalid user name`},
		{"user root", testGlobal(), share(func(d *ShareDef) { d.ReadWrite = []string{"root"} }), `user "root": invalid user name: reserved`},
		{"user both lists", testGlobal(), share(func(d *ShareDef) { d.ReadOnly = []string{"alice"} }), `user "alice": both read-write and read-only`},
		{"no users", testGlobal(), share(func(d *ShareDef) { d.ReadWrite = nil }), `share "media": no user has access`},
		{"force user root", testGlobal(), share(func(d *ShareDef) { d.ForceUser = "root" }), `force user "root": invalid user name: reserved`},
		{"force user empty", testGlobal(), share(func(d *ShareDef) { d.ForceUser = "" }), `force user "": invalid user name`},

		// Global.
		{"listen newline", global(func(g *Global) { g.Listen = "127.0.0.1\n[global]" }), nil, `samba listen "127.0.0.1\n[global]": not an IP address`},
		{"listen name", global(func(g *Global) { g.Listen = "eth0" }), nil, `not an IP address`},
		{"listen zone", global(func(g *Global) { g.Listen = "fe80::1%eth0" }), nil, `zones`},
		{"port zero", global(func(g *Global) { g.Port = 0 }), nil, `samba port 0: out of range`},
		{"port high", global(func(g *Global) { g.Port = 70000 }), nil, `samba port 70000: out of range`},
		{"run dir relative", global(func(g *Global) { g.RunDir = "run" }), nil, `samba run dir "run": not absolute`},
		{"run dir include", global(func(g *Global) { g.RunDir = "/run\ninclude = /etc/passwd" }), nil, `samba run dir "/run\ninclude = /etc/passwd"`},
		{"service user hostile", global(func(g *Global) { g.ServiceUser = "x\nadmin users = x" }), nil, `samba service user "x\nadmin users = x": invalid user name`},
		{"service user root", global(func(g *Global) { g.ServiceUser = "root" }), nil, `reserved`},
		{"workgroup too long", global(func(g *Global) { g.Workgroup = "WORKGROUP-TOO-LONG" }), nil, `samba workgroup "WORKGROUP-TOO-LONG": invalid name`},
		{"workgroup semicolon", global(func(g *Global) { g.Workgroup = "WG;x" }), nil, `samba workgroup "WG;x": invalid name`},
		{"netbios name newline", global(func(g *Global) { g.NetbiosName = "GS\n[x]" }), nil, `samba netbios name "GS\n[x]": invalid name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render(tt.g, tt.shares)
			require.Error(t, err)
			require.Nil(t, out)
			require.Contains(t, err.Error(), tt.want)
			if tt.shares != nil {
				_, err := RenderInclude(tt.shares)
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.want)
			}
		})
	}
}

func TestRenderAcceptsRealPaths(t *testing.T) {
	for _, p := range []string{
		"/srv/Música/Estúdio 1",
		"/tank/radio (main) & co/jingles_2024",
		"/mnt/media+archive/@2024,v1:final",
		"/srv/a-b.c~d!e$f",
	} {
		t.Run(p, func(t *testing.T) {
			out, err := RenderInclude([]ShareDef{{Name: "media", Path: p, ReadWrite: []string{"alice"}, ForceUser: "gs"}})
			require.NoError(t, err)
			require.Contains(t, string(out), "\tpath = "+p+"\n")
		})
	}
}

// TestRenderOutputShape checks the properties every rendered file must have,
// whatever the input: one section header per share, no line that a value
// could have smuggled in.
func TestRenderOutputShape(t *testing.T) {
	out, err := Render(testGlobal(), testShares())
	require.NoError(t, err)
	var sections []string
	for l := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(l, "[") {
			sections = append(sections, l)
			continue
		}
		require.True(t, l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "\t"), "unexpected line %q", l)
		require.NotContains(t, l, "include")
		// The one % allowed: shadow_copy2's strftime format, a parametric
		// option that Samba reads without macro substitution.
		if l != "\tshadow:format = "+zfs.ShadowFormat {
			require.NotContains(t, l, "%")
		}
	}
	require.Equal(t, []string{"[global]", "[playout]", "[studio-b]"}, sections)
	require.Contains(t, string(out), "\tvalid users = automation player1 player2 studio\n")
	require.Contains(t, string(out), "\tread list = player1 player2\n")
	require.Contains(t, string(out), "\twrite list = automation studio\n")
}
