package daemon

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"genesissync/internal/model"
)

// WarningsDir is where other parts of the appliance (the image's first
// boot) leave standing warnings for the status page: one plain-text file
// per warning, its name the warning's id (e.g. file-backed-pool). The
// daemon only reads them; whoever fixes the cause removes the file.
func WarningsDir(stateDir string) string { return filepath.Join(stateDir, "warnings") }

// maxWarning bounds what is read of one warning file.
const maxWarning = 4 << 10

// warnings reads the standing warnings, sorted by id. A missing directory
// means none; an unreadable file is shown as such rather than hidden.
func (d *Daemon) warnings() []model.Warning {
	dir := WarningsDir(d.cfg.StateDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []model.Warning
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		w := model.Warning{ID: e.Name()}
		data, err := readLimited(filepath.Join(dir, e.Name()), maxWarning)
		if err != nil {
			w.Message = "warning file unreadable: " + err.Error()
		} else {
			w.Message = strings.TrimSpace(string(data))
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func readLimited(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := f.Read(buf)
	if m > 0 {
		return buf[:m], nil
	}
	return nil, err
}
