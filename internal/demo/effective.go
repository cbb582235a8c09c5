package demo

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// override is one key the demo changes in the example config, as a path
// of mapping keys, with its YAML tag (!!str, !!int or !!bool).
type override struct {
	path  []string
	tag   string
	value string
}

// effectiveConfig is data (a YAML config) with the overrides applied,
// comments and order kept: the config the demo runs, written where the
// CLI can read it. A key the file lacks is added to its mapping.
func effectiveConfig(data []byte, overrides []override) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the config is not a YAML mapping")
	}
	for _, o := range overrides {
		if err := set(doc.Content[0], o); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(o.path, "."), err)
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// set walks m down o.path, adding the mappings that are missing, and sets
// the last key's value.
func set(m *yaml.Node, o override) error {
	for i, key := range o.path {
		last := i == len(o.path)-1
		if m.Kind != yaml.MappingNode { // i > 0: the document is a mapping
			return fmt.Errorf("%q is not a mapping", strings.Join(o.path[:i], "."))
		}
		var v *yaml.Node
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == key {
				v = m.Content[j+1]
			}
		}
		if v == nil {
			v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
		}
		if last {
			*v = yaml.Node{Kind: yaml.ScalarNode, Tag: o.tag, Value: o.value, LineComment: v.LineComment}
		}
		m = v
	}
	return nil
}
