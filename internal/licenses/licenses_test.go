package licenses

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// Short stand-ins for license texts: each holds the phrases Families looks
// for, as the real texts do.
const (
	mitText = `MIT License

Copyright (c) 2016 Jane Doe

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
`
	bsd3Text = `Copyright 2009 The Go Authors.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
   * Neither the name of Google LLC nor the names of its
contributors may be used to endorse or promote products derived from
this software without specific prior written permission.
`
	apacheText = `
                                 Apache License
                           Version 2.0, January 2004
   APPENDIX: How to apply the Apache License to your work.
      Copyright [yyyy] [name of copyright owner]
      copyright license to reproduce, prepare Derivative Works of,
`
	gplText = `                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007
 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
`
	mplText = `Mozilla Public License Version 2.0
==================================
`
)

func mod(path, detected string, files fstest.MapFS, pkgDirs ...string) Module {
	if len(pkgDirs) == 0 {
		pkgDirs = []string{"."}
	}
	return Module{Path: path, Version: "v1.0.0", FS: files, PkgDirs: pkgDirs, Detected: detected}
}

func mainMod(files fstest.MapFS) Module {
	m := mod("genesissync", "Apache-2.0", files)
	m.Main, m.Version = true, "v0.0.0-test"
	return m
}

func file(text string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(text)} }

func review(t *testing.T, module, name, text, license string) Review {
	t.Helper()
	rs, err := ParseReviews(strings.NewReader(fmt.Sprintf("%s %s sha256:%s %s -- read in a test\n", module, name, sha256Hex([]byte(text)), license)))
	require.NoError(t, err)
	return rs[0]
}

func TestParseExpr(t *testing.T) {
	allowed := DefaultPolicy().allowedSet()
	for _, tc := range []struct {
		in, out string
		allowed bool
	}{
		{"MIT", "MIT", true},
		{"Apache-2.0 AND MIT", "Apache-2.0 AND MIT", true},
		{"apache-2.0 and MIT", "apache-2.0 AND MIT", false}, // IDs are compared as written
		{"MIT OR GPL-3.0-only", "MIT OR GPL-3.0-only", true},
		{"GPL-3.0-only OR LGPL-2.1-only", "GPL-3.0-only OR LGPL-2.1-only", false},
		{"BSD-3-Clause AND (MIT OR GPL-2.0-only)", "BSD-3-Clause AND (MIT OR GPL-2.0-only)", true},
		{"MIT AND GPL-2.0-only", "MIT AND GPL-2.0-only", false},
		{"A AND B OR C", "A AND B OR C", false},
		{"GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0", false},
		{"MPL-2.0", "MPL-2.0", true},
		{"BSD-Source-Code", "BSD-Source-Code", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, err := ParseExpr(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.out, e.String())
			require.Equal(t, tc.allowed, e.Allowed(allowed))
		})
	}
	for _, bad := range []string{"", "AND", "MIT AND", "(MIT", "MIT)", "MIT WITH", "MIT MIT"} {
		_, err := ParseExpr(bad)
		require.Error(t, err, bad)
	}
	e, err := ParseExpr("MIT AND (BSD-2-Clause OR ISC)")
	require.NoError(t, err)
	require.Equal(t, "Expat and (BSD-2-Clause or ISC)", e.Debian())
	require.Equal(t, []string{"BSD-2-Clause", "ISC", "MIT"}, e.IDs())
	require.Equal(t, "MIT AND Apache-2.0", And(Expr{ID: "MIT"}, e.Args[0], Expr{ID: "Apache-2.0"}).String())
}

func TestFamilies(t *testing.T) {
	require.Equal(t, []string{"MIT"}, Families(mitText))
	require.Equal(t, []string{"BSD-3-Clause"}, Families(bsd3Text))
	require.Equal(t, []string{"Apache-2.0"}, Families(apacheText))
	require.Equal(t, []string{"GPL"}, Families(gplText))
	require.Equal(t, []string{"MPL-2.0"}, Families(mplText))
	require.Equal(t, []string{"Apache-2.0", "MIT"}, Families(mitText+apacheText))
	require.Empty(t, Families("All rights reserved."))
}

func TestStatements(t *testing.T) {
	require.Equal(t, []string{"Copyright (c) 2016 Jane Doe"}, Statements(mitText))
	require.Empty(t, Statements(apacheText), "the appendix's template and prose are no statements")
	require.Equal(t, []string{
		"Copyright © fsnotify Authors. All rights reserved.",
		"Copyright Amazon.com, Inc. or its affiliates.",
		"Copyright 2013-2023 The Cobra Authors",
	}, Statements("Copyright © fsnotify Authors. All rights reserved.\n"+
		"copyright notice, this list of conditions\n"+
		"copyright staring in 2011 when the project was ported over:\n"+
		"Copyright Amazon.com, Inc. or its affiliates.\n"+
		"// Copyright 2013-2023 The Cobra Authors\n"+
		"Copyright (c) <year> <copyright holders>\n"+
		"Copyright Amazon.com, Inc. or its affiliates.\n"))
}

func TestParseReviews(t *testing.T) {
	sum := sha256Hex([]byte(bsd3Text))
	rs, err := ParseReviews(strings.NewReader("# comment\n\n" +
		"golang.org/x/sys LICENSE sha256:" + sum + " BSD-3-Clause -- detector: BSD-Source-Code\n" +
		"go.yaml.in/yaml/v3 LICENSE sha256:" + sum + " Apache-2.0 AND MIT -- two licenses\n" +
		"std src/x/LICENSE sha256:" + sum + " SAME-AS-MODULE -- says so\n"))
	require.NoError(t, err)
	require.Len(t, rs, 3)
	require.Equal(t, Review{Module: "golang.org/x/sys", File: "LICENSE", SHA256: sum, License: Expr{ID: "BSD-3-Clause"}, Why: "detector: BSD-Source-Code", Line: 3}, rs[0])
	require.Equal(t, "Apache-2.0 AND MIT", rs[1].License.String())
	require.Equal(t, SameAsModule, rs[2].License.ID)

	for name, bad := range map[string]string{
		"no why":    "m LICENSE sha256:" + sum + " MIT\n",
		"empty why": "m LICENSE sha256:" + sum + " MIT -- \n",
		"short sum": "m LICENSE sha256:abc MIT -- x\n",
		"no prefix": "m LICENSE " + sum + " MIT -- x\n",
		"no expr":   "m LICENSE sha256:" + sum + " -- x\n",
		"bad expr":  "m LICENSE sha256:" + sum + " MIT AND -- x\n",
		"duplicate": "m LICENSE sha256:" + sum + " MIT -- x\nm LICENSE sha256:" + sum + " MIT -- y\n",
	} {
		_, err := ParseReviews(strings.NewReader(bad))
		require.Error(t, err, name)
	}
}

func TestCheck(t *testing.T) {
	gen := mainMod(fstest.MapFS{"LICENSE": file(apacheText), "NOTICE": file("GenesisSync\nCopyright 2026 the GenesisSync authors\n")})
	for _, tc := range []struct {
		name     string
		mods     []Module
		reviews  func(t *testing.T) []Review
		problems []string // substrings, one per problem, in order
		license  string   // of the last module, when the check passes
		notes    []string
	}{
		{
			name:    "detected MIT",
			mods:    []Module{mod("example.com/mit", "MIT", fstest.MapFS{"LICENSE": file(mitText)})},
			license: "MIT",
		},
		{
			name:     "GPL is not allowed",
			mods:     []Module{mod("example.com/gpl", "GPL-3.0-only", fstest.MapFS{"COPYING": file(gplText)})},
			problems: []string{"GPL-3.0-only is not allowed"},
		},
		{
			name:     "a license the detector knows but the policy does not",
			mods:     []Module{mod("golang.org/x/sys", "BSD-Source-Code", fstest.MapFS{"LICENSE": file(bsd3Text)})},
			problems: []string{"the detector says BSD-Source-Code, but the text of LICENSE reads as BSD-3-Clause", "BSD-Source-Code is not allowed"},
		},
		{
			name: "reviewed: the review wins",
			mods: []Module{mod("golang.org/x/sys", "BSD-Source-Code", fstest.MapFS{"LICENSE": file(bsd3Text)})},
			reviews: func(t *testing.T) []Review {
				return []Review{review(t, "golang.org/x/sys", "LICENSE", bsd3Text, "BSD-3-Clause")}
			},
			license: "BSD-3-Clause",
		},
		{
			name: "reviewed, then the file changed",
			mods: []Module{mod("golang.org/x/sys", "BSD-Source-Code", fstest.MapFS{"LICENSE": file(bsd3Text + "and one more condition\n")})},
			reviews: func(t *testing.T) []Review {
				return []Review{review(t, "golang.org/x/sys", "LICENSE", bsd3Text, "BSD-3-Clause")}
			},
			problems: []string{"LICENSE changed since it was reviewed"},
		},
		{
			name: "reviewed as something not allowed",
			mods: []Module{mod("example.com/gpl", "", fstest.MapFS{"LICENSE": file(gplText)})},
			reviews: func(t *testing.T) []Review {
				return []Review{review(t, "example.com/gpl", "LICENSE", gplText, "GPL-3.0-or-later")}
			},
			problems: []string{"GPL-3.0-or-later is not allowed"},
		},
		{
			name:     "nothing detected",
			mods:     []Module{mod("example.com/unknown", "", fstest.MapFS{"LICENSE": file("All rights reserved.\n")})},
			problems: []string{"no license detected in LICENSE"},
		},
		{
			name:     "no license file",
			mods:     []Module{mod("example.com/none", "MIT", fstest.MapFS{"README.md": file("MIT licensed\n")})},
			problems: []string{"no license file at the module root (detector: MIT)"},
		},
		{
			name:     "the text holds a second license the detector left out",
			mods:     []Module{mod("go.yaml.in/yaml/v3", "Apache-2.0", fstest.MapFS{"LICENSE": file(mitText + apacheText)})},
			problems: []string{"the detector says Apache-2.0, but the text of LICENSE reads as Apache-2.0 + MIT"},
		},
		{
			name:     "two license files at the root",
			mods:     []Module{mod("example.com/dual", "MIT", fstest.MapFS{"LICENSE-MIT": file(mitText), "LICENSE-APACHE": file(apacheText)})},
			problems: []string{"several license files at the root (LICENSE-APACHE, LICENSE-MIT)"},
		},
		{
			name: "vendored code under another license, not reviewed",
			mods: []Module{mod("example.com/vend", "MIT", fstest.MapFS{
				"LICENSE":                 file(mitText),
				"internal/gpl/LICENSE":    file(gplText),
				"internal/gpl/gpl.go":     file("package gpl\n"),
				"internal/unused/LICENSE": file(gplText), // no linked package under it
			}, ".", "internal/gpl")},
			problems: []string{"internal/gpl/LICENSE (GPL) covers linked code and no one reviewed it"},
		},
		{
			name: "vendored code under another license, reviewed",
			mods: []Module{mod("example.com/vend", "MIT", fstest.MapFS{
				"LICENSE":                   file(mitText),
				"internal/copied/LICENSE":   file(bsd3Text),
				"internal/copied/a/a.go":    file("package a\n"),
				"internal/unused/COPYING":   file(gplText),
				"internal/unused/unused.go": file("package unused\n"),
			}, ".", "internal/copied/a")},
			reviews: func(t *testing.T) []Review {
				return []Review{review(t, "example.com/vend", "internal/copied/LICENSE", bsd3Text, "BSD-3-Clause")}
			},
			license: "MIT AND BSD-3-Clause",
		},
		{
			name: "a nested file that covers the module's own license",
			mods: []Module{mod("std", "", fstest.MapFS{
				"LICENSE":                 file(bsd3Text),
				"src/boring/LICENSE":      file("The Go code here is under Go's license.\n" + gplText),
				"src/vendor/x/LICENSE":    file(bsd3Text),
				"src/vendor/x/sys/sys.go": file("package sys\n"),
			}, "src/boring", "src/vendor/x/sys")},
			reviews: func(t *testing.T) []Review {
				return []Review{
					review(t, "std", "LICENSE", bsd3Text, "BSD-3-Clause"),
					review(t, "std", "src/boring/LICENSE", "The Go code here is under Go's license.\n"+gplText, SameAsModule),
					review(t, "std", "src/vendor/x/LICENSE", bsd3Text, "BSD-3-Clause"),
				}
			},
			license: "BSD-3-Clause",
		},
		{
			name: "a review that matches nothing linked",
			mods: []Module{mod("example.com/mit", "MIT", fstest.MapFS{"LICENSE": file(mitText)})},
			reviews: func(t *testing.T) []Review {
				return []Review{review(t, "example.com/gone", "LICENSE", mitText, "MIT")}
			},
			problems: []string{"example.com/gone LICENSE is not a license file of a linked module"},
		},
		{
			name:    "MPL-2.0 is allowed, with a note",
			mods:    []Module{mod("example.com/mpl", "MPL-2.0", fstest.MapFS{"LICENSE": file(mplText)})},
			license: "MPL-2.0",
			notes:   []string{"MPL-2.0 (example.com/mpl): weak, file-level copyleft"},
		},
		{
			name:     "GenesisSync itself must be Apache-2.0",
			mods:     []Module{func() Module { m := mainMod(fstest.MapFS{"LICENSE": file(mitText)}); m.Detected = "MIT"; return m }()},
			problems: []string{"GenesisSync itself must be Apache-2.0, its license reads as MIT"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reviews []Review
			if tc.reviews != nil {
				reviews = tc.reviews(t)
			}
			mods := tc.mods
			if !tc.mods[0].Main {
				mods = append([]Module{gen}, tc.mods...)
			}
			rep := Check(mods, reviews, DefaultPolicy())
			got := rep.AllProblems()
			require.Len(t, got, len(tc.problems), "problems: %q", got)
			for i, p := range tc.problems {
				require.Contains(t, got[i], p)
			}
			require.Equal(t, len(tc.problems) == 0, rep.OK())
			if tc.license != "" {
				require.Equal(t, tc.license, rep.Results[len(rep.Results)-1].License().String())
			}
			require.Len(t, rep.Notes, len(tc.notes))
			for i, n := range tc.notes {
				require.Contains(t, rep.Notes[i], n)
			}
		})
	}
}

func TestCopyrightFallbacks(t *testing.T) {
	rep := Check([]Module{
		mainMod(fstest.MapFS{"LICENSE": file(apacheText), "NOTICE": file("GenesisSync\nCopyright 2026 the GenesisSync authors\n")}),
		mod("example.com/sdk", "Apache-2.0", fstest.MapFS{"LICENSE.txt": file(apacheText), "NOTICE.txt": file("SDK\nCopyright 2015 Example, Inc.\n")}),
		mod("example.com/sdk/service/s3", "Apache-2.0", fstest.MapFS{"LICENSE.txt": file(apacheText), "api.go": file("package s3\n")}),
		mod("example.com/cli", "Apache-2.0", fstest.MapFS{"LICENSE.txt": file(apacheText),
			"a.go": file("// Copyright 2013-2023 The CLI Authors\n//\n// Licensed under the Apache License\n\npackage cli\n"),
			"b.go": file("// Copyright 2013-2023 The CLI Authors\npackage cli\n// Copyright 1999 in a comment below the clause\n"),
		}),
		mod("example.com/anon", "Apache-2.0", fstest.MapFS{"LICENSE": file(apacheText)}),
	}, nil, DefaultPolicy())
	require.True(t, rep.OK(), "%q", rep.AllProblems())
	got := map[string][]string{}
	for _, r := range rep.Results {
		got[r.Module.Path] = r.Parts[0].Copyright
	}
	require.Equal(t, map[string][]string{
		"genesissync":                {"Copyright 2026 the GenesisSync authors"},
		"example.com/sdk":            {"Copyright 2015 Example, Inc."},
		"example.com/sdk/service/s3": {"Copyright 2015 Example, Inc."},
		"example.com/cli":            {"Copyright 2013-2023 The CLI Authors"},
		"example.com/anon":           {"the authors of example.com/anon (its license, NOTICE and source headers name no holder)"},
	}, got)
}

func TestDebianCopyright(t *testing.T) {
	rep := Check([]Module{
		mainMod(fstest.MapFS{"LICENSE": file(apacheText), "NOTICE": file("GenesisSync\nCopyright 2026 the GenesisSync authors\n")}),
		mod("example.com/mit", "MIT", fstest.MapFS{"LICENSE": file("Copyright (c) 2016 Jane Doe\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n  of this software.\n")}),
		mod("example.com/sdk", "Apache-2.0", fstest.MapFS{
			"LICENSE.txt":              file(apacheText),
			"NOTICE.txt":               file("SDK\nCopyright 2015 Example, Inc.\n\nThis product includes software.\n"),
			"internal/copied/LICENSE":  file(bsd3Text),
			"internal/copied/copy.go":  file("package copied\n"),
			"internal/copied/other.go": file("package copied\n"),
		}, ".", "internal/copied"),
	}, []Review{review(t, "example.com/sdk", "internal/copied/LICENSE", bsd3Text, "BSD-3-Clause")}, DefaultPolicy())
	require.True(t, rep.OK(), "%q", rep.AllProblems())

	got := string(DebianCopyright(rep, Upstream{Name: "GenesisSync", Binary: "/usr/bin/genesissync", Review: "packaging/license-review.txt"}))
	want := `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: GenesisSync
Comment: /usr/bin/genesissync is one static Go binary. Besides GenesisSync itself it contains the Go modules below, each at the version stated in its Comment. A Files pattern vendor/MODULE/* stands for the module's files as ` + "`go mod vendor`" + ` would place them, go/* for Go's standard library and runtime. Generated by ` + "`go tool task licenses`" + ` from cyclonedx-gomod's license detection and the licenses read by a person (packaging/license-review.txt).

Files: *
Copyright: Copyright 2026 the GenesisSync authors
License: Apache-2.0
Comment: GenesisSync itself; license detected by cyclonedx-gomod in LICENSE.
 .
 NOTICE:
 .
  GenesisSync
  Copyright 2026 the GenesisSync authors

Files: vendor/example.com/mit/*
Copyright: Copyright (c) 2016 Jane Doe
License: Expat
 Copyright (c) 2016 Jane Doe
 .
 Permission is hereby granted, free of charge, to any person obtaining a copy
   of this software.
Comment: example.com/mit v1.0.0; license detected by cyclonedx-gomod in LICENSE.

Files: vendor/example.com/sdk/*
Copyright: Copyright 2015 Example, Inc.
License: Apache-2.0
Comment: example.com/sdk v1.0.0; license detected by cyclonedx-gomod in LICENSE.txt.
 .
 NOTICE.txt:
 .
  SDK
  Copyright 2015 Example, Inc.
 .
  This product includes software.

Files: vendor/example.com/sdk/internal/copied/*
Copyright: Copyright 2009 The Go Authors.
License: BSD-3-Clause
 Copyright 2009 The Go Authors.
 .
 Redistribution and use in source and binary forms, with or without
 modification, are permitted provided that the following conditions are met:
    * Neither the name of Google LLC nor the names of its
 contributors may be used to endorse or promote products derived from
 this software without specific prior written permission.
Comment: the code in internal/copied of example.com/sdk v1.0.0; license read by a person (packaging/license-review.txt): internal/copied/LICENSE: read in a test.

License: Apache-2.0
 On Debian systems, the complete text of the Apache License, Version 2.0 can be found in
 /usr/share/common-licenses/Apache-2.0.
`
	require.Equal(t, want, got)
}

func TestParseSBOM(t *testing.T) {
	main, deps, err := ParseSBOM([]byte(`{
	  "bomFormat": "CycloneDX",
	  "metadata": {"component": {"name": "genesissync", "version": "v1.2.3", "evidence": {"licenses": [{"license": {"id": "Apache-2.0"}}]}}},
	  "components": [
	    {"name": "example.com/a", "version": "v1.0.0", "licenses": [{"license": {"id": "MIT"}}]},
	    {"name": "example.com/b", "version": "v2.0.0", "evidence": {"licenses": [{"expression": "MIT OR Apache-2.0"}]}},
	    {"name": "example.com/c", "version": "v0.1.0"},
	    {"name": "example.com/d", "version": "v0.1.0", "licenses": [{"license": {"name": "Some Custom License"}}]},
	    {"name": "std", "version": "go1.26.8"}
	  ]
	}`))
	require.NoError(t, err)
	require.Equal(t, Detection{Name: "genesissync", Version: "v1.2.3", License: "Apache-2.0"}, main)
	require.Equal(t, []Detection{
		{Name: "example.com/a", Version: "v1.0.0", License: "MIT"},
		{Name: "example.com/b", Version: "v2.0.0", License: "MIT OR Apache-2.0"},
		{Name: "example.com/c", Version: "v0.1.0"},
		{Name: "example.com/d", Version: "v0.1.0", License: "LicenseRef-Some-Custom-License"},
		{Name: "std", Version: "go1.26.8"},
	}, deps)

	_, _, err = ParseSBOM([]byte(`{"bomFormat": "SPDX"}`))
	require.Error(t, err)
}
