package zfs

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DatasetInfo is one file system (or volume) as `zfs get -H -p` reports it.
type DatasetInfo struct {
	Name string `json:"name"`
	// Type is "filesystem" or "volume".
	Type string `json:"type"`
	// Mountpoint is the mountpoint property: an absolute path, or "legacy",
	// "none", or "-" for a volume.
	Mountpoint string `json:"mountpoint"`
	Mounted    bool   `json:"mounted"`
	// Used, Available and Referenced are bytes.
	Used       uint64    `json:"used"`
	Available  uint64    `json:"available"`
	Referenced uint64    `json:"referenced"`
	Created    time.Time `json:"created"`
}

var datasetProps = []string{"type", "mountpoint", "mounted", "used", "available", "referenced", "creation"}

// Dataset reports one dataset. A name with '@' is refused: snapshots are
// listed by Snapshots. Safe for concurrent use.
func Dataset(ctx context.Context, name string) (DatasetInfo, error) {
	return dataset(ctx, execRunner{}, name)
}

func dataset(ctx context.Context, r runner, name string) (DatasetInfo, error) {
	if err := checkDataset(name); err != nil {
		return DatasetInfo{}, err
	}
	out, err := r.run(ctx, "zfs", "get", "-H", "-p", "-o", "name,property,value", strings.Join(datasetProps, ","), name)
	if err != nil {
		return DatasetInfo{}, fmt.Errorf("dataset %q: %w", name, err)
	}
	info, err := parseDataset(out, name)
	if err != nil {
		return DatasetInfo{}, fmt.Errorf("dataset %q: %w", name, err)
	}
	return info, nil
}

// parseDataset reads `zfs get -H -p` output for one dataset.
func parseDataset(out []byte, name string) (DatasetInfo, error) {
	sets, err := parseProps(out)
	if err != nil {
		return DatasetInfo{}, err
	}
	for _, s := range sets {
		if s.name == name {
			return s.dataset()
		}
	}
	return DatasetInfo{}, fmt.Errorf("zfs get printed no properties for it")
}

func (s propSet) dataset() (DatasetInfo, error) {
	info := DatasetInfo{Name: s.name, Type: s.props["type"], Mountpoint: s.props["mountpoint"]}
	var err error
	if info.Mounted, err = s.yesNo("mounted"); err != nil {
		return DatasetInfo{}, err
	}
	for _, f := range []struct {
		prop string
		dst  *uint64
	}{{"used", &info.Used}, {"available", &info.Available}, {"referenced", &info.Referenced}} {
		if *f.dst, err = s.uint(f.prop); err != nil {
			return DatasetInfo{}, err
		}
	}
	if info.Created, err = s.time("creation"); err != nil {
		return DatasetInfo{}, err
	}
	return info, nil
}

// DatasetForPath finds the dataset that holds the directory at path: the
// file system whose mountpoint is the longest prefix of the path (symlinks
// resolved). It is how a share root is checked before deletes:
//
//   - no dataset's mountpoint covers the path: ErrNoDataset;
//   - the covering dataset is not mounted, so the directory is only the
//     empty mountpoint on the file system below: the dataset and
//     ErrNotMounted;
//   - the path is on another file system mounted inside the dataset: an
//     error.
//
// Datasets with a "legacy" or "none" mountpoint are not considered. Safe
// for concurrent use.
func DatasetForPath(ctx context.Context, path string) (DatasetInfo, error) {
	return datasetForPath(ctx, execRunner{}, path)
}

func datasetForPath(ctx context.Context, r runner, path string) (DatasetInfo, error) {
	abs, err := filepath.Abs(path)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return DatasetInfo{}, fmt.Errorf("dataset for %q: %w", path, err)
	}
	out, err := r.run(ctx, "zfs", "list", "-H", "-o", "name,mountpoint,mounted", "-t", "filesystem")
	if err != nil {
		return DatasetInfo{}, fmt.Errorf("dataset for %q: %w", path, err)
	}
	fss, err := parseFilesystems(out)
	if err != nil {
		return DatasetInfo{}, fmt.Errorf("dataset for %q: %w", path, err)
	}
	best, ok := coveringFilesystem(fss, abs)
	if !ok {
		return DatasetInfo{}, fmt.Errorf("dataset for %q: %w", path, ErrNoDataset)
	}
	info, err := dataset(ctx, r, best.Name)
	if err != nil {
		return DatasetInfo{}, fmt.Errorf("dataset for %q: %w", path, err)
	}
	if !info.Mounted {
		return info, fmt.Errorf("dataset for %q: %s: %w", path, info.Name, ErrNotMounted)
	}
	if err := sameDevice(abs, info.Mountpoint); err != nil {
		return info, fmt.Errorf("dataset for %q: %s: %w", path, info.Name, err)
	}
	return info, nil
}

// Filesystem is one line of `zfs list -H -o name,mountpoint,mounted -t filesystem`.
type Filesystem struct {
	Name       string `json:"name"`
	Mountpoint string `json:"mountpoint"`
	Mounted    bool   `json:"mounted"`
}

// parseFilesystems reads `zfs list -H -o name,mountpoint,mounted` output.
func parseFilesystems(out []byte) ([]Filesystem, error) {
	var fss []Filesystem
	for i, line := range lines(out) {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("zfs list line %d: want 3 tab-separated fields, got %q", i+1, line)
		}
		var mounted bool
		switch f[2] {
		case "yes":
			mounted = true
		case "no", "-":
		default:
			return nil, fmt.Errorf("zfs list line %d: mounted is %q, want yes or no", i+1, f[2])
		}
		fss = append(fss, Filesystem{Name: f[0], Mountpoint: f[1], Mounted: mounted})
	}
	return fss, nil
}

// coveringFilesystem is the file system whose mountpoint is the longest
// prefix of path, mounted or not: an unmounted dataset deeper than a mounted
// one is the one that should be there.
func coveringFilesystem(fss []Filesystem, path string) (Filesystem, bool) {
	var best Filesystem
	found := false
	for _, fs := range fss {
		mp := fs.Mountpoint
		if !filepath.IsAbs(mp) {
			continue // legacy, none, -
		}
		mp = filepath.Clean(mp)
		if path != mp && !strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/") {
			continue
		}
		// Longest wins; of equal ones (rpool and rpool/ROOT/debian both at
		// /), the mounted one.
		bl := len(filepath.Clean(best.Mountpoint))
		if !found || len(mp) > bl || len(mp) == bl && fs.Mounted && !best.Mounted {
			best, found = fs, true
		}
	}
	return best, found
}

// sameDevice checks that path is on the file system mounted at mountpoint:
// each ZFS dataset is its own mount with its own device number.
func sameDevice(path, mountpoint string) error {
	var a, b syscall.Stat_t
	if err := syscall.Stat(path, &a); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if err := syscall.Stat(mountpoint, &b); err != nil {
		return fmt.Errorf("stat %s: %w", mountpoint, err)
	}
	if a.Dev != b.Dev {
		return fmt.Errorf("%s is on another file system than the dataset's mountpoint %s", path, mountpoint)
	}
	return nil
}

// propSet is the properties of one dataset or snapshot from `zfs get`.
type propSet struct {
	name  string
	props map[string]string
}

// parseProps reads `zfs get -H -p -o name,property,value` output: one
// name<TAB>property<TAB>value line per property, grouped by name in the
// order the tool printed them. A value may contain tabs (a mountpoint can):
// everything after the second tab is the value.
func parseProps(out []byte) ([]propSet, error) {
	var sets []propSet
	index := map[string]int{}
	for i, line := range lines(out) {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || f[0] == "" || f[1] == "" {
			return nil, fmt.Errorf("zfs get line %d: want name, property and value separated by tabs, got %q", i+1, line)
		}
		j, ok := index[f[0]]
		if !ok {
			j = len(sets)
			index[f[0]] = j
			sets = append(sets, propSet{name: f[0], props: map[string]string{}})
		}
		sets[j].props[f[1]] = f[2]
	}
	return sets, nil
}

func (s propSet) value(prop string) (string, error) {
	v, ok := s.props[prop]
	if !ok {
		return "", fmt.Errorf("%s: zfs get printed no %s", s.name, prop)
	}
	return v, nil
}

func (s propSet) uint(prop string) (uint64, error) {
	v, err := s.value(prop)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %s is %q, want bytes (was -p given?)", s.name, prop, v)
	}
	return n, nil
}

// uintOrDash reads a numeric property that is "-" where it does not apply.
func (s propSet) uintOrDash(prop string) (uint64, error) {
	if v, _ := s.value(prop); v == "-" {
		return 0, nil
	}
	return s.uint(prop)
}

func (s propSet) yesNo(prop string) (bool, error) {
	v, err := s.value(prop)
	if err != nil {
		return false, err
	}
	switch v {
	case "yes":
		return true, nil
	case "no", "-":
		return false, nil
	}
	return false, fmt.Errorf("%s: %s is %q, want yes or no", s.name, prop, v)
}

// time reads a creation property: seconds since the epoch under -p.
func (s propSet) time(prop string) (time.Time, error) {
	n, err := s.uint(prop)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(n), 0).UTC(), nil
}

// lines splits tool output into its non-empty lines, without a trailing CR.
func lines(out []byte) []string {
	var ls []string
	for l := range strings.SplitSeq(string(out), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) != "" {
			ls = append(ls, l)
		}
	}
	return ls
}
