package samba

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MissingModule is a VFS module that a rendered smb.conf names and the
// host's smbd cannot load: smbd then refuses every connection to those
// shares ("Error loading module", and {Network Name Not Found} for the
// client), while the rest keep working.
type MissingModule struct {
	Module string   `json:"module"`
	Shares []string `json:"shares"`
	// Dir is where smbd looks for it (MODULESDIR/vfs).
	Dir string `json:"dir"`
}

// String says what is missing, what it breaks and how to fix it.
func (m MissingModule) String() string {
	fix := "install the package that provides it"
	if m.Module == "shadow_copy2" {
		fix = "install samba-vfs-modules (apt install samba-vfs-modules)"
	}
	return fmt.Sprintf("smbd cannot load VFS module %s (no %s.so in %s): smbd does not serve share(s) %s; %s",
		m.Module, m.Module, m.Dir, strings.Join(m.Shares, ", "), fix)
}

// CheckVFSModules returns the VFS modules that conf (a rendered smb.conf
// or include file) names and the host's smbd has neither built in nor in
// its module directory, by `smbd -b`. Safe for concurrent use.
func CheckVFSModules(ctx context.Context, conf []byte) ([]MissingModule, error) {
	return checkVFSModules(ctx, execRunner{}, conf, fileExists)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func checkVFSModules(ctx context.Context, r runner, conf []byte, exists func(string) bool) ([]MissingModule, error) {
	wanted := vfsModules(conf)
	if len(wanted) == 0 {
		return nil, nil
	}
	out, _, err := r.run(ctx, nil, "smbd", "-b")
	if err != nil {
		return nil, fmt.Errorf("smbd -b (where smbd finds its modules): %w", err)
	}
	dir, builtin := buildModules(out)
	if dir == "" {
		return nil, fmt.Errorf("smbd -b does not say its MODULESDIR")
	}
	vfsDir := filepath.Join(dir, "vfs")
	var missing []MissingModule
	for _, m := range sortedKeys(wanted) {
		if builtin["vfs_"+m] || exists(filepath.Join(vfsDir, m+".so")) {
			continue
		}
		missing = append(missing, MissingModule{Module: m, Shares: wanted[m], Dir: vfsDir})
	}
	return missing, nil
}

// vfsModules returns each module named by a "vfs objects" line of conf
// with the sections (shares) that name it, in order.
func vfsModules(conf []byte) map[string][]string {
	mods := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			section = l[1 : len(l)-1]
			continue
		}
		key, value, ok := strings.Cut(l, "=")
		if !ok || strings.Join(strings.Fields(strings.ToLower(key)), " ") != "vfs objects" {
			continue
		}
		for m := range strings.FieldsSeq(strings.ReplaceAll(value, ",", " ")) {
			if !slices.Contains(mods[m], section) {
				mods[m] = append(mods[m], section)
			}
		}
	}
	return mods
}

// buildModules reads smbd -b's MODULESDIR and its "Builtin modules" list.
func buildModules(out []byte) (dir string, builtin map[string]bool) {
	builtin = map[string]bool{}
	inBuiltin := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		raw := sc.Text()
		l := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(l, "MODULESDIR:"):
			dir = strings.TrimSpace(strings.TrimPrefix(l, "MODULESDIR:"))
		case strings.HasPrefix(l, "Builtin modules:"):
			inBuiltin = true
			for m := range strings.FieldsSeq(strings.TrimPrefix(l, "Builtin modules:")) {
				builtin[m] = true
			}
		case inBuiltin && raw != "" && (raw[0] == ' ' || raw[0] == '\t'):
			for m := range strings.FieldsSeq(l) {
				builtin[m] = true
			}
		default:
			inBuiltin = false
		}
	}
	return dir, builtin
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
