package licenses

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Review is one license file a person read, from the review list
// (packaging/license-review.txt): what the file's license is where the
// detector is wrong, incomplete or blind, pinned to the file's SHA-256 so
// that a changed file is read again.
type Review struct {
	Module  string // module path, "std" for Go's standard library
	File    string // slash path inside the module
	SHA256  string // hex digest of the file as read
	License Expr
	Why     string // what the detector said and what the text says
	Line    int    // in the review list, for messages
}

// SameAsModule, as a nested file's reviewed license, says the code it
// covers is under the module's own license.
const SameAsModule = "SAME-AS-MODULE"

// ParseReviews reads the review list: one file a line,
//
//	MODULE FILE sha256:HEX SPDX-EXPRESSION -- WHY
//
// with blank lines and # comments ignored. For a license file deeper in
// the module, SAME-AS-MODULE as the expression says the linked code there
// is under the module's own license (the file says so; its other terms
// cover something not linked). WHY is required: an override
// without a reason is not a review.
func ParseReviews(r io.Reader) ([]Review, error) {
	var out []Review
	var err error
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, why, ok := strings.Cut(line, " -- ")
		why = strings.TrimSpace(why)
		if !ok || why == "" {
			return nil, fmt.Errorf("review list line %d: no ' -- why'", n)
		}
		f := strings.Fields(head)
		if len(f) < 4 {
			return nil, fmt.Errorf("review list line %d: want MODULE FILE sha256:HEX LICENSE -- WHY", n)
		}
		sum, ok := strings.CutPrefix(f[2], "sha256:")
		if b, err := hex.DecodeString(sum); !ok || err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("review list line %d: %q is not sha256:HEX", n, f[2])
		}
		var e Expr
		if lic := strings.Join(f[3:], " "); lic == SameAsModule {
			e = Expr{ID: SameAsModule}
		} else if e, err = ParseExpr(lic); err != nil {
			return nil, fmt.Errorf("review list line %d: %w", n, err)
		}
		key := f[0] + " " + f[1]
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("review list line %d: %s %s already reviewed on line %d", n, f[0], f[1], prev)
		}
		seen[key] = n
		out = append(out, Review{Module: f[0], File: f[1], SHA256: sum, License: e, Why: why, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("review list: %w", err)
	}
	return out, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
