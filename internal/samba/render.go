package samba

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"genesissync/internal/layout"
	"genesissync/internal/zfs"
)

// Global is the input of the [global] section of a standalone smb.conf.
// It is a plain value; any goroutine may read it.
type Global struct {
	// Listen is the IP address smbd binds. An unspecified address
	// (0.0.0.0 or ::) binds every interface.
	Listen string
	// Port is smbd's TCP port.
	Port int
	// RunDir holds smb.conf and smbd's pid, lock, state, cache, private
	// and ncalrpc directories. It must be absolute and clean.
	RunDir string
	// ServiceUser is the Unix account every file on the shares belongs to.
	ServiceUser string
	// Workgroup and NetbiosName are the server's Windows names.
	Workgroup   string
	NetbiosName string
}

// ConfigPath is where the standalone smb.conf lives: <RunDir>/smb.conf.

// SystemPorts are the system smbd's default "smb ports" (Samba's own
// default), which appliance mode leaves as they are.
var SystemPorts = []int{445, 139}

func (g Global) ConfigPath() string { return filepath.Join(g.RunDir, "smb.conf") }

// PidDir is smbd's pid directory; samba-dcerpcd writes its pid file there.
func (g Global) PidDir() string { return filepath.Join(g.RunDir, "pid") }

// runDir is a directory under RunDir that smbd needs.
type runDir struct {
	path string
	perm os.FileMode
}

// runDirs are the directories under RunDir that smbd needs, with their
// permissions; MakeRunDirs creates them.
func (g Global) runDirs() []runDir {
	d := func(name string, perm os.FileMode) runDir { return runDir{filepath.Join(g.RunDir, name), perm} }
	return []runDir{
		d("pid", 0o755), d("lock", 0o755), d("state", 0o755), d("cache", 0o755),
		d("private", 0o700), d("ncalrpc", 0o755), d("log", 0o750), d("winbindd", 0o755),
	}
}

// ShareDef is one SMB share to render. It is a plain value; any goroutine
// may read it.
type ShareDef struct {
	// Name is the SMB share name: ^[a-z0-9][a-z0-9_-]{0,63}$, not one of
	// Samba's special sections.
	Name string
	// Path is the absolute, clean local directory exported.
	Path string
	// Comment is shown to clients next to the share; optional.
	Comment string
	// ReadWrite and ReadOnly are the SMB users with access; a user may
	// appear in one of them only. At least one user must have access.
	ReadWrite []string
	ReadOnly  []string
	// ForceUser is the Unix account all file access happens as (the
	// service user).
	ForceUser string
	// ShadowSnapdir, when set, turns on Windows "Previous Versions":
	// vfs_shadow_copy2 reads the share's snapshots from this directory,
	// relative to Path (".zfs/snapshot" on OpenZFS, the clone directory
	// layout.SnapshotDir on zfs-fuse), named by zfs.ShadowFormat.
	ShadowSnapdir string
}

var (
	shareNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	// userNameRE is the portable subset of Unix user names that useradd
	// accepts on Debian and that Samba never reads as a group (@, +, &)
	// or a list separator.
	userNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	// netbiosRE: NetBIOS names are at most 15 characters.
	netbiosRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,14}$`)
)

// pathForbidden are the characters a path may not hold: Samba expands %
// macros, a trailing \ continues the line, and ; # = [ ] and quotes are
// smb.conf syntax elsewhere. Other printable characters, including
// non-ASCII letters, are literal in a path value.
const pathForbidden = "%\\;#=[]\"'"

// reservedShares are section names with a meaning of their own to Samba.
var reservedShares = []string{"global", "homes", "printers", "print$", "ipc$"}

// reservedUsers may not be SMB or service accounts.
var reservedUsers = []string{"root"}

// maxCommentRunes bounds a share comment; Windows shows about that much.
const maxCommentRunes = 256

func checkShareName(name string) error {
	if !shareNameRE.MatchString(name) {
		return errors.New("invalid name (want ^[a-z0-9][a-z0-9_-]{0,63}$)")
	}
	if slices.Contains(reservedShares, name) {
		return errors.New("invalid name: reserved by Samba")
	}
	return nil
}

// CheckUserName reports whether name is acceptable as an SMB or service
// account name. Safe for concurrent use.
func CheckUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return errors.New("invalid user name (want ^[a-z_][a-z0-9_-]{0,31}$)")
	}
	if slices.Contains(reservedUsers, name) {
		return errors.New("invalid user name: reserved")
	}
	return nil
}

func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case !filepath.IsAbs(p):
		return errors.New("not absolute")
	case filepath.Clean(p) != p:
		return errors.New("not clean")
	case p == "/":
		return errors.New("the root directory cannot be exported")
	case !utf8.ValidString(p):
		return errors.New("not valid UTF-8")
	case strings.ContainsAny(p, pathForbidden):
		return errors.New(`contains one of % \ ; # = [ ] " '`)
	case strings.ContainsFunc(p, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }):
		return errors.New("contains a control or non-printing character")
	case strings.Contains(p, "  ") || strings.HasSuffix(p, " ") || strings.Contains(p, " /") || strings.Contains(p, "/ "):
		// smb.conf trims a value and collapses runs of spaces in it
		// (testparm shows "/a  b" as "/a b"), and Windows trims names:
		// the share would silently point elsewhere.
		return errors.New("leading, trailing or repeated spaces in a path element")
	}
	return nil
}

// snapdirRE is a relative, clean path of plain name characters.
var snapdirRE = regexp.MustCompile(`^\.?[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)

// checkSnapdir accepts "" (Previous Versions off) or a relative, clean
// path of plain name characters without "..".
func checkSnapdir(d string) error {
	if d == "" {
		return nil
	}
	if !snapdirRE.MatchString(d) || strings.Contains(d, "..") {
		return errors.New("want a relative, clean path of letters, digits, '.', '_' and '-'")
	}
	return nil
}

func checkComment(c string) error {
	if !utf8.ValidString(c) {
		return errors.New("not valid UTF-8")
	}
	if utf8.RuneCountInString(c) > maxCommentRunes {
		return fmt.Errorf("longer than %d characters", maxCommentRunes)
	}
	if strings.TrimSpace(c) != c {
		return errors.New("leading or trailing space")
	}
	for _, r := range c {
		switch {
		case !unicode.IsPrint(r) && r != ' ':
			return fmt.Errorf("control or non-printing character %q", r)
		case r == '%':
			return errors.New("contains %, which Samba expands as a macro")
		case r == '\\':
			return errors.New(`contains \, which Samba reads as a line continuation`)
		case r == '"':
			return errors.New(`contains a double quote`)
		}
	}
	return nil
}

func checkListen(l string) error {
	a, err := netip.ParseAddr(l)
	if err != nil {
		return errors.New("not an IP address")
	}
	if a.Zone() != "" {
		return errors.New("IPv6 zones are not supported")
	}
	return nil
}

// checkGlobal validates the standalone [global] input.
func checkGlobal(g Global) error {
	if err := checkListen(g.Listen); err != nil {
		return fmt.Errorf("samba listen %q: %w", g.Listen, err)
	}
	if g.Port < 1 || g.Port > 65535 {
		return fmt.Errorf("samba port %d: out of range 1-65535", g.Port)
	}
	if err := checkPath(g.RunDir); err != nil {
		return fmt.Errorf("samba run dir %q: %w", g.RunDir, err)
	}
	if err := CheckUserName(g.ServiceUser); err != nil {
		return fmt.Errorf("samba service user %q: %w", g.ServiceUser, err)
	}
	if !netbiosRE.MatchString(g.Workgroup) {
		return fmt.Errorf("samba workgroup %q: invalid name (want ^[A-Za-z0-9][A-Za-z0-9_-]{0,14}$)", g.Workgroup)
	}
	if !netbiosRE.MatchString(g.NetbiosName) {
		return fmt.Errorf("samba netbios name %q: invalid name (want ^[A-Za-z0-9][A-Za-z0-9_-]{0,14}$)", g.NetbiosName)
	}
	return nil
}

// share is a validated ShareDef with sorted, de-duplicated user lists.
type share struct {
	ShareDef
	valid []string
}

// checkShares validates every share and returns them sorted by name.
func checkShares(defs []ShareDef) ([]share, error) {
	out := make([]share, 0, len(defs))
	seen := map[string]bool{}
	for _, d := range defs {
		if err := checkShareName(d.Name); err != nil {
			return nil, fmt.Errorf("share %q: %w", d.Name, err)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("share %q: defined twice", d.Name)
		}
		seen[d.Name] = true
		if err := checkPath(d.Path); err != nil {
			return nil, fmt.Errorf("share %q: path %q: %w", d.Name, d.Path, err)
		}
		if err := checkComment(d.Comment); err != nil {
			return nil, fmt.Errorf("share %q: comment %q: %w", d.Name, d.Comment, err)
		}
		if err := CheckUserName(d.ForceUser); err != nil {
			return nil, fmt.Errorf("share %q: force user %q: %w", d.Name, d.ForceUser, err)
		}
		rw, err := userList(d.Name, d.ReadWrite)
		if err != nil {
			return nil, err
		}
		ro, err := userList(d.Name, d.ReadOnly)
		if err != nil {
			return nil, err
		}
		for _, u := range rw {
			if slices.Contains(ro, u) {
				return nil, fmt.Errorf("share %q: user %q: both read-write and read-only", d.Name, u)
			}
		}
		if err := checkSnapdir(d.ShadowSnapdir); err != nil {
			return nil, fmt.Errorf("share %q: snapshot directory %q: %w", d.Name, d.ShadowSnapdir, err)
		}
		valid := slices.Concat(rw, ro)
		if len(valid) == 0 {
			// An empty "valid users" lets every authenticated user in.
			return nil, fmt.Errorf("share %q: no user has access", d.Name)
		}
		slices.Sort(valid)
		d.ReadWrite, d.ReadOnly = rw, ro
		out = append(out, share{ShareDef: d, valid: valid})
	}
	slices.SortFunc(out, func(a, b share) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func userList(shareName string, users []string) ([]string, error) {
	out := make([]string, 0, len(users))
	for _, u := range users {
		if err := CheckUserName(u); err != nil {
			return nil, fmt.Errorf("share %q: user %q: %w", shareName, u, err)
		}
		out = append(out, u)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// confWriter writes smb.conf text. Values reaching it have been validated;
// it refuses anything that could still break a line as a last line of
// defence.
type confWriter struct {
	b   strings.Builder
	err error
}

func (w *confWriter) comment(lines ...string) {
	for _, l := range lines {
		w.b.WriteString("\t# " + l + "\n")
	}
}

func (w *confWriter) param(key, value string) {
	if strings.ContainsAny(value, "\r\n\x00") || strings.HasSuffix(value, `\`) {
		if w.err == nil {
			w.err = fmt.Errorf("parameter %q: value %q: unsafe character", key, value)
		}
		return
	}
	if value == "" {
		w.b.WriteString("\t" + key + " =\n")
		return
	}
	w.b.WriteString("\t" + key + " = " + value + "\n")
}

func (w *confWriter) section(name string) {
	w.b.WriteString("\n[" + name + "]\n")
}

const header = "# Generated by GenesisSync from its configuration. Do not edit:\n" +
	"# every change is overwritten on the next reload.\n"

// sharePolicy explains, once, the settings every share section repeats.
const sharePolicy = `
# Every share below:
# - valid users: only the users given access; read only = yes, and the
#   read-write users are in the write list.
# - force user: users log on as themselves, but files belong to the service
#   account, so the appliance can read and publish everything.
# - veto files: the appliance's temp and marker files (.genesissync*) are
#   invisible and inaccessible over SMB; with delete veto files = no, a client
#   cannot remove a directory while one is in it.
# - oplocks: players read whole audio files, and read caching under SMB2
#   leases keeps their latency low. smbd breaks a lease when another client
#   writes; a change made on disk does not (kernel oplocks are off), which is
#   why the appliance never replaces a file that a client holds open.
# - strict sync = yes: a client's explicit flush is honoured, so a file a user
#   saved is on stable storage before it is uploaded or the box loses power;
#   smbd runs the flush asynchronously, so other clients' reads do not wait.
#   sync always = no: an fsync after every write would stall copying.
# - vfs objects: shadow_copy2 where the share is a ZFS dataset with
#   Previous Versions on: the schedule's snapshots (gs-YYYY-MM-DD-HHMM, UTC,
#   hence shadow:localtime = no) read from .zfs/snapshot, or, where ZFS has
#   no such directory (zfs-fuse), from read-only clones that the appliance
#   mounts under .genesissync-snapshots and keeps in step with the
#   snapshots. Snapshots taken before restores and mass deletes
#   (gs-pre-...) do not match the format and are not shown.
`

// Render returns a complete standalone smb.conf: the [global] section for a
// private smbd described by g, then one section per share, in name order.
// Every input is validated; the error names the first culprit. Render is
// pure and safe for concurrent use.
func Render(g Global, shares []ShareDef) ([]byte, error) {
	if err := checkGlobal(g); err != nil {
		return nil, err
	}
	ss, err := checkShares(shares)
	if err != nil {
		return nil, err
	}
	w := &confWriter{}
	w.b.WriteString(header)
	writeGlobal(w, g)
	if len(ss) > 0 {
		w.b.WriteString(sharePolicy)
	}
	for _, s := range ss {
		writeShare(w, s)
	}
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}

// RenderInclude returns share sections only, for appliance mode, where the
// system smb.conf includes the file. The system's [global] section should
// set "smb2 leases = yes" and "kernel change notify = yes" (the defaults).
// RenderInclude is pure and safe for concurrent use.
func RenderInclude(shares []ShareDef) ([]byte, error) {
	ss, err := checkShares(shares)
	if err != nil {
		return nil, err
	}
	w := &confWriter{}
	w.b.WriteString(header)
	w.b.WriteString("# Share definitions only: the system smb.conf includes this file.\n")
	if len(ss) > 0 {
		w.b.WriteString(sharePolicy)
	}
	for _, s := range ss {
		writeShare(w, s)
	}
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}

func writeGlobal(w *confWriter, g Global) {
	dir := func(name string) string { return filepath.Join(g.RunDir, name) }
	w.section("global")
	w.comment("A private, standalone server: no domain, no printers, no NetBIOS.")
	w.param("server role", "standalone server")
	w.param("workgroup", g.Workgroup)
	w.param("netbios name", g.NetbiosName)
	w.param("server string", "GenesisSync")
	w.param("disable netbios", "yes")
	w.param("multicast dns register", "no")
	w.param("host msdfs", "no")
	w.b.WriteString("\n")
	w.comment("SMB1 off: Windows 7 and later speak SMB2.1 or newer.")
	w.param("server min protocol", "SMB2_10")
	w.param("smb ports", strconv.Itoa(g.Port))
	a := netip.MustParseAddr(g.Listen)
	if !a.IsUnspecified() {
		w.param("interfaces", a.String())
		w.param("bind interfaces only", "yes")
	} else {
		w.comment("Listen is unspecified: bind every interface.")
	}
	w.b.WriteString("\n")
	w.comment("Accounts: local passdb, no guests, no anonymous access, NTLMv2 only.")
	w.param("passdb backend", "tdbsam:"+filepath.Join(dir("private"), "passdb.tdb"))
	w.param("map to guest", "never")
	w.param("restrict anonymous", "2")
	w.param("ntlm auth", "ntlmv2-only")
	w.param("obey pam restrictions", "no")
	w.b.WriteString("\n")
	w.comment("Every file Samba keeps lives under the run directory, never in /var/lib/samba,",
		"so a private smbd can run next to (or without) the system one.")
	w.param("pid directory", dir("pid"))
	w.param("lock directory", dir("lock"))
	w.param("state directory", dir("state"))
	w.param("cache directory", dir("cache"))
	w.param("private dir", dir("private"))
	w.param("ncalrpc dir", dir("ncalrpc"))
	w.param("winbindd socket directory", dir("winbindd"))
	w.param("log file", filepath.Join(dir("log"), "smbd.log"))
	w.param("max log size", "10000")
	w.b.WriteString("\n")
	w.comment("No printing at all: nothing to scan or spawn at start-up.")
	w.param("load printers", "no")
	w.param("printing", "bsd")
	w.param("printcap name", "/dev/null")
	w.param("disable spoolss", "yes")
	w.b.WriteString("\n")
	w.comment("Files the appliance publishes must reach connected players promptly:",
		"inotify-driven change notify, and SMB2 leases so that players cache reads",
		"while smbd still breaks the lease when another client writes.",
		"Leases need oplocks = yes (per share) and kernel oplocks = no.")
	w.param("kernel change notify", "yes")
	w.param("smb2 leases", "yes")
	w.param("kernel oplocks", "no")
}

func writeShare(w *confWriter, s share) {
	w.section(s.Name)
	if s.Comment != "" {
		w.param("comment", s.Comment)
	}
	w.param("path", s.Path)
	w.param("browseable", "yes")
	w.param("guest ok", "no")
	w.param("valid users", strings.Join(s.valid, " "))
	w.param("read only", "yes")
	if len(s.ReadOnly) > 0 {
		w.param("read list", strings.Join(s.ReadOnly, " "))
	}
	if len(s.ReadWrite) > 0 {
		w.param("write list", strings.Join(s.ReadWrite, " "))
	}
	w.param("force user", s.ForceUser)
	w.param("create mask", "0664")
	w.param("directory mask", "0775")
	w.param("wide links", "no")
	w.param("veto files", "/"+layout.ReservedPattern+"/")
	w.param("delete veto files", "no")
	w.param("oplocks", "yes")
	w.param("level2 oplocks", "yes")
	w.param("strict sync", "yes")
	w.param("sync always", "no")
	if s.ShadowSnapdir == "" {
		w.param("vfs objects", "")
		return
	}
	w.param("vfs objects", "shadow_copy2")
	w.param("shadow:snapdir", s.ShadowSnapdir)
	w.param("shadow:format", zfs.ShadowFormat)
	w.param("shadow:sort", "desc")
	w.param("shadow:localtime", "no")
}
