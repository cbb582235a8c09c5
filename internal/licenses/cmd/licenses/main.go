// Command licenses is `task licenses`: it prints the license of every
// module linked into the genesissync binary and fails on an unknown or
// disallowed one; with -copyright it also writes the package's Debian
// copyright file. The licenses come from an SBOM made by
// `cyclonedx-gomod app -licenses` and from the review list; the module set
// from `go list -deps` of the binary's main package, for the platform the
// binary is built for (-goos, -goarch; CGO_ENABLED=0).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"genesissync/internal/licenses"
)

func main() {
	sbom := flag.String("sbom", "", "CycloneDX JSON SBOM of the binary from `cyclonedx-gomod app -licenses` (required)")
	review := flag.String("review", "packaging/license-review.txt", "the review list: license files a person read")
	copyright := flag.String("copyright", "", "write the Debian copyright file here (only when every license is allowed)")
	pkg := flag.String("pkg", "./appliance", "the binary's main package")
	goos := flag.String("goos", "linux", "GOOS of the binary")
	goarch := flag.String("goarch", "amd64", "GOARCH of the binary")
	flag.Parse()
	if *sbom == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: licenses -sbom FILE [-review FILE] [-copyright FILE] [-pkg PKG]")
		os.Exit(2)
	}
	// The binary is static (CGO_ENABLED=0), built for goos/goarch: list
	// what that build links, whatever this machine is.
	target := []string{"GOOS=" + *goos, "GOARCH=" + *goarch, "CGO_ENABLED=0"}
	ok, err := run(os.Stdout, *sbom, *review, *copyright, *pkg, target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "licenses:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(out io.Writer, sbomPath, reviewPath, copyrightPath, pkg string, target []string) (bool, error) {
	data, err := os.ReadFile(sbomPath)
	if err != nil {
		return false, err
	}
	mainDet, deps, err := licenses.ParseSBOM(data)
	if err != nil {
		return false, err
	}
	rf, err := os.Open(reviewPath)
	if err != nil {
		return false, err
	}
	reviews, err := licenses.ParseReviews(rf)
	rf.Close()
	if err != nil {
		return false, err
	}
	mods, err := linkedModules(pkg, target)
	if err != nil {
		return false, err
	}

	// The SBOM must describe exactly the modules go list links.
	var stale []string
	detected := map[string]licenses.Detection{}
	for _, d := range deps {
		detected[d.Name] = d
	}
	for i := range mods {
		m := &mods[i]
		if m.Main {
			m.Detected = mainDet.License
			if m.Version == "" {
				m.Version = mainDet.Version
			}
			continue
		}
		d, ok := detected[m.Path]
		switch {
		case !ok && m.Path == "std":
			// an SBOM without -std: the standard library is reviewed anyway
		case !ok:
			stale = append(stale, m.Path+"@"+m.Version+" is linked but not in the SBOM")
		case d.Version != m.Version:
			stale = append(stale, fmt.Sprintf("%s is linked at %s, the SBOM says %s", m.Path, m.Version, d.Version))
		}
		m.Detected = d.License
		delete(detected, m.Path)
	}
	for _, d := range detected {
		stale = append(stale, d.Name+"@"+d.Version+" is in the SBOM but not linked")
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		return false, fmt.Errorf("%s does not describe %s (regenerate it): %s", sbomPath, pkg, strings.Join(stale, "; "))
	}

	rep := licenses.Check(mods, reviews, licenses.DefaultPolicy())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tVERSION\tLICENSE\tFROM")
	for _, res := range rep.Results {
		m := res.Module
		name := m.Path
		if m.Main {
			name += " (this repository)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, m.Version, res.License(), res.From())
	}
	tw.Flush()
	fmt.Fprintf(out, "\n%d modules; allowed: %s.\n", len(rep.Results), allowedList())
	for _, n := range rep.Notes {
		fmt.Fprintln(out, "note:", n)
	}
	if !rep.OK() {
		for _, p := range rep.AllProblems() {
			fmt.Fprintln(os.Stderr, "licenses: FAIL:", p)
		}
		return false, nil
	}
	if copyrightPath != "" {
		text := licenses.DebianCopyright(rep, licenses.Upstream{Name: "GenesisSync", Binary: "/usr/bin/genesissync", Review: reviewPath})
		if err := os.MkdirAll(filepath.Dir(copyrightPath), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(copyrightPath, text, 0o644); err != nil {
			return false, err
		}
		fmt.Fprintln(out, "wrote", copyrightPath)
	}
	return true, nil
}

func allowedList() string {
	p := licenses.DefaultPolicy()
	ids := make([]string, 0, len(p.Allowed))
	for id := range p.Allowed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

// linkedModules lists the modules of the packages pkg links, with the
// directories of those packages, from `go list -deps -json`.
func linkedModules(pkg string, target []string) ([]licenses.Module, error) {
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return nil, err
	}
	goversion, err := goEnv("GOVERSION")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,Standard,Module", pkg)
	cmd.Env = append(os.Environ(), target...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	listing, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %v: %s", pkg, err, stderr.Bytes())
	}
	type module struct {
		Path, Version, Dir string
		Main               bool
		Replace            *struct{ Path, Version, Dir string }
	}
	byPath := map[string]*licenses.Module{}
	dirs := map[string]map[string]bool{}
	var order []string
	dec := json.NewDecoder(bytes.NewReader(listing))
	for {
		var p struct {
			ImportPath, Dir string
			Standard        bool
			Module          *module
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		var m licenses.Module
		root := ""
		switch {
		case p.Standard:
			m = licenses.Module{Path: "std", Version: goversion}
			root = goroot
		case p.Module != nil:
			m = licenses.Module{Path: p.Module.Path, Version: p.Module.Version, Main: p.Module.Main}
			root = p.Module.Dir
			if r := p.Module.Replace; r != nil {
				// The replacement's files are what is linked.
				m.Version, root = r.Version, r.Dir
			}
		default:
			return nil, fmt.Errorf("go list: package %s has no module", p.ImportPath)
		}
		if root == "" {
			return nil, fmt.Errorf("go list: no directory for module %s (go mod download)", m.Path)
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("go list: package %s (%s) is outside its module root %s", p.ImportPath, p.Dir, root)
		}
		if _, ok := byPath[m.Path]; !ok {
			m.FS = os.DirFS(root)
			byPath[m.Path] = &m
			dirs[m.Path] = map[string]bool{}
			order = append(order, m.Path)
		}
		dirs[m.Path][filepath.ToSlash(rel)] = true
	}
	var mods []licenses.Module
	for _, path := range order {
		m := byPath[path]
		for d := range dirs[path] {
			m.PkgDirs = append(m.PkgDirs, d)
		}
		sort.Strings(m.PkgDirs)
		mods = append(mods, *m)
	}
	return mods, nil
}

func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
