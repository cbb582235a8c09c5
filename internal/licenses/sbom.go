package licenses

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Detection is what cyclonedx-gomod said of one module.
type Detection struct {
	Name    string // module path ("std" for the standard library)
	Version string
	License string // SPDX expression, "" when nothing was detected
}

// ParseSBOM reads the detections from a CycloneDX JSON SBOM made by
// `cyclonedx-gomod app -licenses` (licenses as evidence, the default, or
// asserted with -assert-licenses): the main component first, then every
// component. Several licenses on one component are joined with AND, the
// reading that asks the most of us.
func ParseSBOM(data []byte) (main Detection, deps []Detection, err error) {
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component *sbomComponent `json:"component"`
		} `json:"metadata"`
		Components []sbomComponent `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		return Detection{}, nil, fmt.Errorf("parse SBOM: %w", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.Metadata.Component == nil {
		return Detection{}, nil, fmt.Errorf("parse SBOM: not a CycloneDX BOM with a main component")
	}
	if main, err = bom.Metadata.Component.detection(); err != nil {
		return Detection{}, nil, err
	}
	for _, c := range bom.Components {
		d, err := c.detection()
		if err != nil {
			return Detection{}, nil, err
		}
		deps = append(deps, d)
	}
	return main, deps, nil
}

type sbomLicense struct {
	License *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"license"`
	Expression string `json:"expression"`
}

type sbomComponent struct {
	Name     string        `json:"name"`
	Version  string        `json:"version"`
	Licenses []sbomLicense `json:"licenses"`
	Evidence struct {
		Licenses []sbomLicense `json:"licenses"`
	} `json:"evidence"`
}

func (c sbomComponent) detection() (Detection, error) {
	var terms []string
	for _, l := range append(c.Licenses, c.Evidence.Licenses...) {
		switch {
		case l.Expression != "":
			terms = append(terms, "("+l.Expression+")")
		case l.License != nil && l.License.ID != "":
			terms = append(terms, l.License.ID)
		case l.License != nil && l.License.Name != "":
			// A name is no SPDX ID: make it one that no policy allows.
			terms = append(terms, "LicenseRef-"+strings.Join(strings.Fields(l.License.Name), "-"))
		}
	}
	d := Detection{Name: c.Name, Version: c.Version}
	if len(terms) > 0 {
		e, err := ParseExpr(strings.Join(terms, " AND "))
		if err != nil {
			return Detection{}, fmt.Errorf("SBOM component %s: %w", c.Name, err)
		}
		d.License = e.String()
	}
	return d, nil
}
