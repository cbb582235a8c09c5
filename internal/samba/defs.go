package samba

import (
	"errors"
	"fmt"

	"genesissync/internal/config"
	"genesissync/internal/snapshot"
)

// Defs turns the configuration into render inputs: one ShareDef per share in
// name order (users split by access into read-write and read-only, the
// service user forced) and the standalone Global, taking values as config
// gives them (config.Parse and config.Load apply the defaults). Shares and
// users are validated as Render would, and the Global too except in
// appliance or off mode, where only the service user matters. Defs does
// not modify cfg and is safe for concurrent use.
func Defs(cfg *config.Config) ([]ShareDef, Global, error) {
	if cfg == nil {
		return nil, Global{}, errors.New("samba definitions: no configuration")
	}
	sc := cfg.Samba
	g := Global{
		Listen:      sc.Listen,
		Port:        sc.Port,
		RunDir:      sc.RunDir,
		ServiceUser: sc.ServiceUser,
		Workgroup:   sc.Workgroup,
		NetbiosName: sc.NetbiosName,
	}
	switch sc.Mode {
	case config.SambaAppliance, config.SambaOff:
		if err := CheckUserName(g.ServiceUser); err != nil {
			return nil, Global{}, fmt.Errorf("samba service user %q: %w", g.ServiceUser, err)
		}
	default:
		if g.RunDir == "" {
			return nil, Global{}, errors.New("samba run dir: empty")
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
