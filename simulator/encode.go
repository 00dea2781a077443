package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// scenarioFields has Scenario's fields without its methods, so the methods
// can encode and decode the object form without calling themselves.
type scenarioFields Scenario

// MarshalYAML writes a scenario without parameters as its bare name, the
// way people write it.
func (s Scenario) MarshalYAML() (any, error) {
	if s.Simple() {
		return s.Name, nil
	}
	return scenarioFields(s), nil
}

// UnmarshalYAML reads either form of a scenario: its name or an object.
func (s *Scenario) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Scenario{Name: n.Value}
		return nil
	}
	var f scenarioFields
	if err := n.Decode(&f); err != nil {
		return err
	}
	*s = Scenario(f)
	return nil
}

// MarshalJSON mirrors MarshalYAML so the API and the file agree.
func (s Scenario) MarshalJSON() ([]byte, error) {
	if s.Simple() {
		return json.Marshal(s.Name)
	}
	return json.Marshal(scenarioFields(s))
}

// UnmarshalJSON reads either form of a scenario and rejects unknown keys in
// the object form, as the file parser does.
func (s *Scenario) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		return nil
	case len(data) > 0 && data[0] == '"':
		var name string
		if err := json.Unmarshal(data, &name); err != nil {
			return err
		}
		*s = Scenario{Name: name}
		return nil
	case len(data) > 0 && data[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var f scenarioFields
		if err := dec.Decode(&f); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
		*s = Scenario(f)
		return nil
	}
	return errors.New("a scenario must be a name or an object")
}

// YAML writes the spec in canonical form: keys in the contract's order,
// short lists and small mappings inline, as in the documented example.
// Parse gives the same spec back.
func (s Spec) YAML() ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(s); err != nil {
		return nil, err
	}
	compact(&n, true, false)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// compact puts lists of plain values and small mappings of plain values
// (up to three keys, five for a list item) on one line, which keeps the file short enough to read at a glance.
func compact(n *yaml.Node, top, item bool) {
	for _, c := range n.Content {
		compact(c, false, n.Kind == yaml.SequenceNode)
	}
	if top || n.Kind == yaml.DocumentNode {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		if allScalars(n.Content) {
			n.Style = yaml.FlowStyle
		}
	case yaml.MappingNode:
		limit := 3
		if item {
			limit = 5 // a scenario with its parameters reads well on one line
		}
		if len(n.Content) <= 2*limit && allScalars(n.Content) {
			n.Style = yaml.FlowStyle
		}
	}
}

func allScalars(ns []*yaml.Node) bool {
	for _, c := range ns {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}
