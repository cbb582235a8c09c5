package licenses

import (
	"fmt"
	"sort"
	"strings"
)

// Expr is a parsed SPDX license expression: a license ID (Op ""), or an
// AND or OR of two or more expressions. WITH exceptions are kept inside the
// ID ("GPL-2.0-only WITH Classpath-exception-2.0") and never allowed.
// Values are immutable once parsed and safe to share.
type Expr struct {
	Op   string // "", "AND" or "OR"
	ID   string // with Op ""
	Args []Expr // with Op "AND" or "OR"
}

// ParseExpr parses an SPDX license expression: IDs, AND, OR (AND binds
// tighter), parentheses and WITH. Operators are accepted in any case.
func ParseExpr(s string) (Expr, error) {
	p := &exprParser{toks: tokenize(s)}
	if len(p.toks) == 0 {
		return Expr{}, fmt.Errorf("empty license expression")
	}
	e, err := p.or()
	if err != nil {
		return Expr{}, fmt.Errorf("license expression %q: %w", s, err)
	}
	if p.i != len(p.toks) {
		return Expr{}, fmt.Errorf("license expression %q: unexpected %q", s, p.toks[p.i])
	}
	return e, nil
}

// And joins expressions with AND, flattening nested ANDs and dropping
// repeated terms; one expression is returned as it is.
func And(es ...Expr) Expr {
	var args []Expr
	seen := map[string]bool{}
	for _, e := range es {
		parts := []Expr{e}
		if e.Op == "AND" {
			parts = e.Args
		}
		for _, a := range parts {
			if k := a.String(); !seen[k] {
				seen[k] = true
				args = append(args, a)
			}
		}
	}
	if len(args) == 1 {
		return args[0]
	}
	return Expr{Op: "AND", Args: args}
}

func (e Expr) isZero() bool { return e.Op == "" && e.ID == "" }

// String renders the expression in SPDX form, parenthesising an OR inside
// an AND.
func (e Expr) String() string {
	return e.render(func(id string) string { return id }, "AND", "OR")
}

// Debian renders the expression with the short names and lower-case
// operators of the Debian copyright format 1.0 (MIT as Expat).
func (e Expr) Debian() string {
	return e.render(debianName, "and", "or")
}

func (e Expr) render(name func(string) string, and, or string) string {
	if e.Op == "" {
		return name(e.ID)
	}
	op := and
	if e.Op == "OR" {
		op = or
	}
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = a.render(name, and, or)
		if a.Op == "OR" && e.Op == "AND" {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " "+op+" ")
}

// IDs returns the license IDs in the expression, sorted, each once.
func (e Expr) IDs() []string {
	set := map[string]bool{}
	var walk func(Expr)
	walk = func(e Expr) {
		if e.Op == "" {
			set[e.ID] = true
		}
		for _, a := range e.Args {
			walk(a)
		}
	}
	walk(e)
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Allowed reports whether the expression can be complied with using only
// the allowed IDs: every term of an AND, at least one of an OR.
func (e Expr) Allowed(allowed map[string]bool) bool {
	switch e.Op {
	case "":
		return allowed[e.ID]
	case "AND":
		for _, a := range e.Args {
			if !a.Allowed(allowed) {
				return false
			}
		}
		return true
	default:
		for _, a := range e.Args {
			if a.Allowed(allowed) {
				return true
			}
		}
		return false
	}
}

func tokenize(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	return strings.Fields(s)
}

type exprParser struct {
	toks []string
	i    int
}

func (p *exprParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *exprParser) or() (Expr, error) {
	return p.list("OR", p.and)
}

func (p *exprParser) and() (Expr, error) {
	return p.list("AND", p.atom)
}

func (p *exprParser) list(op string, next func() (Expr, error)) (Expr, error) {
	first, err := next()
	if err != nil {
		return Expr{}, err
	}
	args := []Expr{first}
	for strings.EqualFold(p.peek(), op) {
		p.i++
		e, err := next()
		if err != nil {
			return Expr{}, err
		}
		args = append(args, e)
	}
	if len(args) == 1 {
		return first, nil
	}
	return Expr{Op: op, Args: args}, nil
}

func (p *exprParser) atom() (Expr, error) {
	t := p.peek()
	switch {
	case t == "":
		return Expr{}, fmt.Errorf("ends early")
	case t == "(":
		p.i++
		e, err := p.or()
		if err != nil {
			return Expr{}, err
		}
		if p.peek() != ")" {
			return Expr{}, fmt.Errorf("missing )")
		}
		p.i++
		return e, nil
	case t == ")" || isOperator(t):
		return Expr{}, fmt.Errorf("unexpected %q", t)
	}
	p.i++
	id := t
	if strings.EqualFold(p.peek(), "WITH") {
		p.i++
		exc := p.peek()
		if exc == "" || exc == "(" || exc == ")" || isOperator(exc) {
			return Expr{}, fmt.Errorf("WITH without an exception")
		}
		p.i++
		id += " WITH " + exc
	}
	return Expr{ID: id}, nil
}

func isOperator(t string) bool {
	return strings.EqualFold(t, "AND") || strings.EqualFold(t, "OR") || strings.EqualFold(t, "WITH")
}

// debianName maps an SPDX ID to the Debian copyright format's short name
// where they differ. The format's names are case-insensitive, so
// BSD-3-Clause stays as SPDX spells it.
func debianName(id string) string {
	if id == "MIT" {
		return "Expat" // the format's name for the MIT text Go modules use
	}
	return id
}
