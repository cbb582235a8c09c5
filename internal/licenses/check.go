package licenses

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Module is one module linked into the binary, as `go list -deps` and the
// SBOM describe it. Check only reads FS.
type Module struct {
	Path     string   // module path; "std" for Go's standard library and runtime
	Version  string   // as linked
	Main     bool     // the module being built: GenesisSync itself
	FS       fs.FS    // the module's files: its directory in the module cache, GOROOT for std
	PkgDirs  []string // slash dirs of its linked packages, relative to its root ("." for the root)
	Detected string   // the license expression cyclonedx-gomod detected, "" for none
}

// Policy says which licenses may be linked into the binary.
type Policy struct {
	Allowed map[string]string // SPDX ID to why it may be linked
	Main    string            // the license the main module must carry
}

// DefaultPolicy is GenesisSync's: Apache-2.0 itself, dependencies under
// permissive licenses, and MPL-2.0, whose copyleft stays with its own files.
func DefaultPolicy() Policy {
	return Policy{
		Main: "Apache-2.0",
		Allowed: map[string]string{
			"MIT":          "permissive; keep the notice",
			"BSD-2-Clause": "permissive; keep the notice",
			"BSD-3-Clause": "permissive; keep the notice, no endorsement",
			"ISC":          "permissive; keep the notice",
			"Apache-2.0":   "permissive with a patent grant; keep the notice and NOTICE files",
			"MPL-2.0": "weak, file-level copyleft: the MPL files stay MPL and their source stays available " +
				"(the module's, at its version); a larger work may link them under its own license (MPL-2.0 section 3.3)",
		},
	}
}

func (p Policy) allowedSet() map[string]bool {
	set := make(map[string]bool, len(p.Allowed))
	for id := range p.Allowed {
		set[id] = true
	}
	return set
}

// Part is one license covering some of a module's files: the module's own
// (Dir "."), or a license file deeper in the tree (vendored code) that
// covers its directory.
type Part struct {
	Dir       string   // "." or the slash directory the license file is in
	License   Expr     // what covers the files
	Files     []string // the license files, slash paths in the module
	Text      string   // their text, kept for licenses with no file in /usr/share/common-licenses
	Reviews   []Review // the review lines that decided it; none where the detector did
	Copyright []string // statements from the license and NOTICE files (or the fallbacks, for Dir ".")
	Copies    []string // nested license files whose code is under this same license (Dir "." only)
}

// Notice is a NOTICE file at a module's root, reproduced with it.
type Notice struct {
	File string
	Text string
}

// Result is the license of one module.
type Result struct {
	Module   Module
	Parts    []Part // Parts[0] is the module's own; absent when it has none
	Notices  []Notice
	Problems []string
}

// License is what the module as a whole is under: its parts joined by AND.
func (r Result) License() Expr {
	if len(r.Parts) == 0 {
		return Expr{ID: "NOASSERTION"}
	}
	es := make([]Expr, len(r.Parts))
	for i, p := range r.Parts {
		es[i] = p.License
	}
	return And(es...)
}

// From says where the license came from, for the table.
func (r Result) From() string {
	var out, nested []string
	for _, p := range r.Parts {
		files := strings.Join(p.Files, ", ")
		switch {
		case p.Dir == "." && len(p.Reviews) == 0:
			out = append(out, "detected: "+files)
		case p.Dir == ".":
			out = append(out, "reviewed: "+files)
		default:
			nested = append(nested, files+" ("+p.License.String()+")")
		}
		if len(p.Copies) > 0 {
			out = append(out, fmt.Sprintf("reviewed: %d nested license files, the same license", len(p.Copies)))
		}
	}
	if len(nested) > 2 {
		nested = []string{fmt.Sprintf("%d nested license files", len(nested))}
	}
	if len(nested) > 0 {
		out = append(out, "reviewed: "+strings.Join(nested, ", "))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, "; ")
}

// Report is the outcome of Check.
type Report struct {
	Results  []Result // the main module first, then by module path
	Problems []string // review lines that match nothing linked
	Notes    []string // what a reader of the table must know (MPL-2.0 modules)
}

// OK reports whether every module's license is known and allowed.
func (r Report) OK() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, res := range r.Results {
		if len(res.Problems) > 0 {
			return false
		}
	}
	return true
}

// AllProblems lists every problem, each with its module.
func (r Report) AllProblems() []string {
	var out []string
	for _, res := range r.Results {
		for _, p := range res.Problems {
			out = append(out, res.Module.Path+"@"+res.Module.Version+": "+p)
		}
	}
	return append(out, r.Problems...)
}

// Check decides each module's license from the detector's result and the
// review list, and fails (in the Report's problems) every module whose
// license is unknown, contradicted by its own text, changed since it was
// reviewed, or not allowed by the policy. It is pure apart from reading
// the modules' FS.
//
// Rules: a module's own license is the review of its root license files
// where there is one, else what the detector found in its one root license
// file, provided the text reads as that license and nothing else. Every
// license file on the way from the root to a linked package (vendored code
// under another license) must be reviewed. Every review must match a file
// of a linked module, with the same SHA-256.
func Check(mods []Module, reviews []Review, policy Policy) Report {
	byFile := map[string]*Review{}
	used := map[*Review]bool{}
	for i := range reviews {
		byFile[reviews[i].Module+" "+reviews[i].File] = &reviews[i]
	}
	lookup := func(m Module, file string) *Review {
		r := byFile[m.Path+" "+file]
		if r != nil {
			used[r] = true
		}
		return r
	}
	allowed := policy.allowedSet()

	var rep Report
	for _, m := range mods {
		rep.Results = append(rep.Results, checkModule(m, lookup, allowed, policy))
	}
	sort.SliceStable(rep.Results, func(i, j int) bool {
		a, b := rep.Results[i].Module, rep.Results[j].Module
		if a.Main != b.Main {
			return a.Main
		}
		return a.Path < b.Path
	})
	inheritCopyright(rep.Results)

	for i := range reviews {
		if r := &reviews[i]; !used[r] {
			rep.Problems = append(rep.Problems, fmt.Sprintf("review list line %d: %s %s is not a license file of a linked module: remove the line", r.Line, r.Module, r.File))
		}
	}

	var mpl []string
	for _, res := range rep.Results {
		for _, id := range res.License().IDs() {
			if id == "MPL-2.0" {
				mpl = append(mpl, res.Module.Path)
			}
		}
	}
	if len(mpl) > 0 {
		rep.Notes = append(rep.Notes, "MPL-2.0 ("+strings.Join(mpl, ", ")+"): "+policy.Allowed["MPL-2.0"])
	}
	return rep
}

func checkModule(m Module, lookup func(Module, string) *Review, allowed map[string]bool, policy Policy) Result {
	res := Result{Module: m}
	problem := func(format string, args ...any) {
		res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
	}
	read := func(file string) (string, bool) {
		b, err := fs.ReadFile(m.FS, file)
		if err != nil {
			problem("read %s: %v", file, err)
			return "", false
		}
		return strings.ReplaceAll(string(b), "\r\n", "\n"), true
	}
	// reviewed checks a file against its review line, if it has one.
	reviewed := func(file, text string) *Review {
		r := lookup(m, file)
		if r != nil && r.SHA256 != sha256Hex([]byte(text)) && r.SHA256 != sha256Hex([]byte(strings.ReplaceAll(text, "\n", "\r\n"))) {
			problem("%s changed since it was reviewed (review list line %d): read it again, then update the line's license and sha256:%s", file, r.Line, sha256Hex([]byte(text)))
		}
		return r
	}

	licFiles, notices := rootFiles(m.FS, problem)
	for _, n := range notices {
		if text, ok := read(n); ok {
			res.Notices = append(res.Notices, Notice{File: n, Text: text})
		}
	}

	// The module's own license.
	own := Part{Dir: "."}
	var texts []string
	var unreviewed []string
	for _, f := range licFiles {
		text, ok := read(f)
		if !ok {
			continue
		}
		texts = append(texts, text)
		own.Files = append(own.Files, f)
		own.Copyright = appendNew(own.Copyright, Statements(text)...)
		if r := reviewed(f, text); r != nil && r.License.ID == SameAsModule {
			problem("%s is the module's own license file: %s means nothing there (review list line %d)", f, SameAsModule, r.Line)
		} else if r != nil {
			own.Reviews = append(own.Reviews, *r)
		} else {
			unreviewed = append(unreviewed, f)
		}
	}
	switch {
	case len(own.Files) == 0:
		problem("no license file at the module root (detector: %s): read the module and add it to the review list", orNone(m.Detected))
	case len(unreviewed) == 0:
		es := make([]Expr, len(own.Reviews))
		for i, r := range own.Reviews {
			es[i] = r.License
		}
		own.License = And(es...)
	case len(own.Files) > 1:
		problem("several license files at the root (%s): review each of %s", strings.Join(own.Files, ", "), strings.Join(unreviewed, ", "))
	case m.Detected == "":
		problem("no license detected in %s: read it and add it to the review list", own.Files[0])
	default:
		e, err := ParseExpr(m.Detected)
		if err != nil {
			problem("detector: %v", err)
			break
		}
		if fam, det := Families(texts[0]), families(e); !equalStrings(fam, det) {
			problem("the detector says %s, but the text of %s reads as %s: read it and add it to the review list", e, own.Files[0], orNone(strings.Join(fam, " + ")))
		}
		own.License = e
	}
	if !own.License.isZero() {
		if needsText(own.License) {
			own.Text = strings.Join(texts, "\n")
		}
		res.Parts = append(res.Parts, own)
	}

	// License files in the directories of linked packages (vendored code).
	if !m.Main {
		sameText := map[string]bool{}
		for _, t := range texts {
			sameText[t] = true
		}
		for _, dir := range nestedDirs(m.PkgDirs) {
			entries, err := fs.ReadDir(m.FS, dir)
			if err != nil {
				problem("list %s: %v", dir, err)
				continue
			}
			for _, e := range entries {
				if e.IsDir() || !IsLicenseFile(e.Name()) {
					continue
				}
				file := path.Join(dir, e.Name())
				text, ok := read(file)
				if !ok {
					continue
				}
				r := reviewed(file, text)
				if r == nil {
					problem("%s (%s) covers linked code and no one reviewed it: read it and add it to the review list", file, orNone(strings.Join(Families(text), " + ")))
					continue
				}
				if r.License.ID == SameAsModule || (sameText[text] && len(res.Parts) > 0 && res.Parts[0].License.String() == r.License.String()) {
					if len(res.Parts) == 0 || res.Parts[0].Dir != "." {
						problem("%s: %s, but the module has no license of its own", file, SameAsModule)
						continue
					}
					// A copy of the module's own license (Go's x/ modules
					// vendored into std): covered by the first stanza.
					res.Parts[0].Copies = append(res.Parts[0].Copies, file)
					continue
				}
				p := Part{Dir: dir, License: r.License, Files: []string{file}, Reviews: []Review{*r}, Copyright: Statements(text)}
				if needsText(p.License) {
					p.Text = text
				}
				res.Parts = append(res.Parts, p)
			}
		}
	}

	if len(res.Parts) > 0 && len(res.Parts[0].Copyright) == 0 && res.Parts[0].Dir == "." {
		for _, n := range res.Notices {
			res.Parts[0].Copyright = appendNew(res.Parts[0].Copyright, Statements(n.Text)...)
		}
		if len(res.Parts[0].Copyright) == 0 {
			res.Parts[0].Copyright = goHeaderStatements(goSources(m))
		}
	}

	lic := res.License()
	if len(res.Parts) > 0 {
		if m.Main && lic.String() != policy.Main {
			problem("GenesisSync itself must be %s, its license reads as %s", policy.Main, lic)
		}
		if !lic.Allowed(allowed) {
			problem("%s is not allowed (allowed: %s)", lic, strings.Join(sortedKeys(allowed), ", "))
		}
	}
	return res
}

// rootFiles lists the license and NOTICE files at the module root.
func rootFiles(fsys fs.FS, problem func(string, ...any)) (licenses, notices []string) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		problem("list the module root: %v", err)
		return nil, nil
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch {
		case IsLicenseFile(e.Name()):
			licenses = append(licenses, e.Name())
		case isNoticeFile(e.Name()):
			notices = append(notices, e.Name())
		}
	}
	return licenses, notices
}

// nestedDirs returns the directories below the root on the way to each
// package directory, sorted, each once.
func nestedDirs(pkgDirs []string) []string {
	set := map[string]bool{}
	for _, d := range pkgDirs {
		d = path.Clean(d)
		for d != "." && d != "/" && d != "" {
			set[d] = true
			d = path.Dir(d)
		}
	}
	return sortedKeys(set)
}

// goSources reads the non-test Go files of the module's linked packages.
func goSources(m Module) map[string]string {
	src := map[string]string{}
	for _, dir := range m.PkgDirs {
		entries, err := fs.ReadDir(m.FS, dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			if b, err := fs.ReadFile(m.FS, path.Join(dir, name)); err == nil {
				src[path.Join(dir, name)] = string(b)
			}
		}
	}
	return src
}

// inheritCopyright gives a module whose files name no holder the
// statements of the module it is nested in (the same repository:
// github.com/aws/aws-sdk-go-v2/service/s3 from github.com/aws/aws-sdk-go-v2's
// NOTICE), else a sentence saying no statement was found.
func inheritCopyright(results []Result) {
	own := map[string][]string{}
	for _, r := range results {
		if len(r.Parts) > 0 && r.Parts[0].Dir == "." && len(r.Parts[0].Copyright) > 0 {
			own[r.Module.Path] = r.Parts[0].Copyright
		}
	}
	for i := range results {
		r := &results[i]
		if len(r.Parts) == 0 || r.Parts[0].Dir != "." || len(r.Parts[0].Copyright) > 0 {
			continue
		}
		best := ""
		for p := range own {
			if strings.HasPrefix(r.Module.Path, p+"/") && len(p) > len(best) {
				best = p
			}
		}
		if best != "" {
			r.Parts[0].Copyright = own[best]
		} else {
			r.Parts[0].Copyright = []string{"the authors of " + r.Module.Path + " (its license, NOTICE and source headers name no holder)"}
		}
	}
}

// families maps an expression's IDs to the families Families reports.
func families(e Expr) []string {
	set := map[string]bool{}
	for _, id := range e.IDs() {
		switch {
		case strings.HasPrefix(id, "AGPL-"):
			id = "AGPL"
		case strings.HasPrefix(id, "LGPL-"):
			id = "LGPL"
		case strings.HasPrefix(id, "GPL-"):
			id = "GPL"
		}
		set[id] = true
	}
	return sortedKeys(set)
}

// commonLicenses are the allowed licenses whose full text Debian ships in
// /usr/share/common-licenses. The BSD file there is the Regents of the
// University of California's own, so BSD texts, which name their holder,
// are reproduced like MIT and ISC.
var commonLicenses = map[string]string{
	"Apache-2.0": "Apache License, Version 2.0",
	"MPL-2.0":    "Mozilla Public License, Version 2.0",
}

func needsText(e Expr) bool {
	for _, id := range e.IDs() {
		if _, ok := commonLicenses[id]; !ok {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, l := range list {
			if l == it {
				found = true
				break
			}
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
