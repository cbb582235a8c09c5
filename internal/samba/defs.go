package samba

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"

	"genesissync/internal/config"
	"genesissync/internal/snapshot"
)

// Defaults applied by Defs where the configuration leaves a field empty
// (config.Load applies the same ones; Defs also serves configurations built
// in code).
const (
	defaultListen      = "127.0.0.1"
	defaultWorkgroup   = "WORKGROUP"
	defaultNetbiosName = "GENESISSYNC"
	// defaultRunDirName is the run directory under the state directory.
	defaultRunDirName = "samba"
)

// Defs turns the configuration into render inputs: one ShareDef per share in
// name order (users split by access into read-write and read-only, the
// service user forced) and the standalone Global, with the defaults
// (listen 127.0.0.1, port 445, run dir <state_dir>/samba, service user
// genesissync, workgroup WORKGROUP, netbios name GENESISSYNC) applied to
// empty fields. Every share and user is validated as Render
// would; the Global is validated too unless Samba runs in appliance or off
// mode, where only the service user matters. Defs does not modify cfg and
// is safe for concurrent use.
func Defs(cfg *config.Config) ([]ShareDef, Global, error) {
	if cfg == nil {
		return nil, Global{}, errors.New("samba definitions: no configuration")
	}
	sc := cfg.Samba
	g := Global{
		Listen:      cmp.Or(sc.Listen, defaultListen),
		Port:        sc.Port,
		RunDir:      sc.RunDir,
		ServiceUser: cmp.Or(sc.ServiceUser, config.DefaultServiceUser),
		Workgroup:   cmp.Or(sc.Workgroup, defaultWorkgroup),
		NetbiosName: cmp.Or(sc.NetbiosName, defaultNetbiosName),
	}
	if g.Port == 0 {
		g.Port = config.DefaultSambaPort
	}
	if g.RunDir == "" && cfg.StateDir != "" {
		g.RunDir = filepath.Join(cfg.StateDir, defaultRunDirName)
	}
	switch sc.Mode {
	case config.SambaAppliance, config.SambaOff:
		if err := CheckUserName(g.ServiceUser); err != nil {
			return nil, Global{}, fmt.Errorf("samba service user %q: %w", g.ServiceUser, err)
		}
	default:
		if g.RunDir == "" {
			return nil, Global{}, errors.New("samba run dir: empty, and no state dir to put it under")
		}
		if err := checkGlobal(g); err != nil {
			return nil, Global{}, err
		}
	}

	defs := make([]ShareDef, 0, len(cfg.Shares))
	for _, name := range cfg.ShareNames() {
		sh := cfg.Shares[name]
		if sh == nil {
			return nil, Global{}, fmt.Errorf("share %q: empty definition", name)
		}
		d := ShareDef{Name: name, Path: sh.Path, Comment: sh.Comment, ForceUser: g.ServiceUser}
		if sh.Dataset != "" && sh.Snapshots.ShowPreviousVersions() {
			d.ShadowSnapdir = snapshot.ShadowDir(snapshot.DetectMode(sh.Path, true))
		}
		for user, access := range sh.Access {
			if cfg.Users != nil {
				if _, ok := cfg.Users[user]; !ok {
					return nil, Global{}, fmt.Errorf("share %q: user %q: has access but is not defined in users", name, user)
				}
			}
			switch access {
			case config.AccessReadWrite:
				d.ReadWrite = append(d.ReadWrite, user)
			case config.AccessReadOnly:
				d.ReadOnly = append(d.ReadOnly, user)
			default:
				return nil, Global{}, fmt.Errorf("share %q: user %q: access %q: want %s or %s",
					name, user, access, config.AccessReadWrite, config.AccessReadOnly)
			}
		}
		defs = append(defs, d)
	}
	ss, err := checkShares(defs)
	if err != nil {
		return nil, Global{}, err
	}
	for i, s := range ss {
		defs[i] = s.ShareDef // sorted, de-duplicated user lists
	}
	return defs, g, nil
}
