package licenses

import (
	"path"
	"regexp"
	"sort"
	"strings"
)

// licenseFile matches the names of license files: LICENSE, LICENCE,
// COPYING, UNLICENSE, with any extension or -suffix (LICENSE.txt,
// LICENSE-MIT, COPYING.md).
var licenseFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)([._-].*)?$`)

// noticeFile matches the names of NOTICE files (Apache-2.0 section 4(d)).
var noticeFile = regexp.MustCompile(`(?i)^notice([._-].*)?$`)

// IsLicenseFile reports whether a file name (not a path) names a license file.
func IsLicenseFile(name string) bool { return licenseFile.MatchString(name) }

func isNoticeFile(name string) bool { return noticeFile.MatchString(name) }

// marker is a phrase that only the text of one license family contains;
// Families uses them to cross-check what the detector said.
type marker struct {
	id      string
	phrases []string // all must appear (case and spacing ignored)
	unless  []string // none may appear
}

var markers = []marker{
	{id: "Apache-2.0", phrases: []string{"apache license", "version 2.0"}},
	{id: "MIT", phrases: []string{"permission is hereby granted, free of charge, to any person obtaining a copy"}},
	{id: "ISC", phrases: []string{"permission to use, copy, modify, and/or distribute this software for any purpose"}},
	{id: "ISC", phrases: []string{"permission to use, copy, modify, and distribute this software for any purpose"}},
	{id: "BSD-4-Clause", phrases: []string{"redistribution and use in source and binary forms", "all advertising materials mentioning"}},
	{id: "BSD-3-Clause", phrases: []string{"redistribution and use in source and binary forms", "endorse or promote products"}, unless: []string{"all advertising materials mentioning"}},
	{id: "BSD-2-Clause", phrases: []string{"redistribution and use in source and binary forms"}, unless: []string{"endorse or promote products", "all advertising materials mentioning"}},
	{id: "MPL-2.0", phrases: []string{"mozilla public license", "version 2.0"}},
	{id: "GPL", phrases: []string{"gnu general public license"}, unless: []string{"gnu lesser general public license", "gnu affero general public license", "gnu library general public license"}},
	{id: "LGPL", phrases: []string{"gnu lesser general public license"}},
	{id: "LGPL", phrases: []string{"gnu library general public license"}},
	{id: "AGPL", phrases: []string{"gnu affero general public license"}},
	{id: "Unlicense", phrases: []string{"this is free and unencumbered software released into the public domain"}},
}

// Families returns the license families whose tell-tale phrases a license
// text contains, sorted: SPDX IDs for the permissive licenses and MPL-2.0,
// "GPL", "LGPL" and "AGPL" for the GNU ones. Two families in one file, or
// a family other than the detected license, mean a person must read it.
func Families(text string) []string {
	t := strings.Join(strings.Fields(strings.ToLower(text)), " ")
	set := map[string]bool{}
	for _, m := range markers {
		if containsAll(t, m.phrases) && !containsAny(t, m.unless) {
			set[m.id] = true
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func containsAll(t string, phrases []string) bool {
	for _, p := range phrases {
		if !strings.Contains(t, p) {
			return false
		}
	}
	return true
}

func containsAny(t string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// copyrightLine matches a copyright statement at the start of a line:
// "Copyright 2009 The Go Authors.", "Copyright (c) 2016 ...", "Copyright ©
// fsnotify Authors.". Group 1 is what follows the word and the sign.
// The word is matched as written in statements, Copyright or COPYRIGHT:
// lower case is prose ("copyright notice", "copyright starting in 2011").
var copyrightLine = regexp.MustCompile(`^(?:Copyright|COPYRIGHT)(?:\s*(?:\([cC]\)|©))?\s*(.*)$`)

// notHolder are first words after "Copyright" that show the line is
// license prose ("copyright notice, this list of conditions"), not a
// statement.
var notHolder = map[string]bool{
	"notice": true, "notices": true, "owner": true, "owners": true, "holder": true,
	"holders": true, "license": true, "licenses": true, "statement": true,
	"statements": true, "law": true, "laws": true, "and": true, "or": true,
	"of": true, "to": true, "is": true, "in": true, "protection": true,
	"infringement": true, "permission": true, "interest": true,
}

// Statements returns the copyright statements in a text, in order, each
// once: lines that start (after comment markers) with "Copyright", minus
// license prose and templates ("Copyright [yyyy] [name of copyright
// owner]").
func Statements(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimLeft(line, "/*#;-"))
		m := copyrightLine.FindStringSubmatch(line)
		if m == nil || m[1] == "" {
			continue
		}
		rest := m[1]
		if strings.ContainsAny(rest[:1], "[<{:") {
			continue
		}
		first := strings.ToLower(strings.Trim(strings.Fields(rest)[0], ".,;:"))
		if notHolder[first] || (first == "the" && strings.HasPrefix(strings.ToLower(rest), "the above")) {
			continue
		}
		line = strings.Join(strings.Fields(line), " ")
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	return out
}

// goHeaderStatements returns the copyright statements in the leading
// comments of Go source files: for modules whose license file names no
// holder (Apache-2.0 without a NOTICE). src maps a file's path to its text.
func goHeaderStatements(src map[string]string) []string {
	count := map[string]int{}
	names := make([]string, 0, len(src))
	for name := range src {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if path.Ext(name) != ".go" {
			continue
		}
		lines := strings.SplitN(src[name], "\n", 40)
		var head []string
		for _, l := range lines {
			t := strings.TrimSpace(l)
			if strings.HasPrefix(t, "package ") {
				break
			}
			head = append(head, t)
		}
		for _, s := range Statements(strings.Join(head, "\n")) {
			count[s]++
		}
	}
	out := make([]string, 0, len(count))
	for s := range count {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if count[out[i]] != count[out[j]] {
			return count[out[i]] > count[out[j]]
		}
		return out[i] < out[j]
	})
	if len(out) > 5 {
		out = out[:5]
	}
	sort.Strings(out)
	return out
}
