package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatewise/pricing"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds what Parse reads: a real architecture file is a few
// kilobytes, and the limit keeps a hostile upload from costing memory.
const maxFileSize = 1 << 20

// maxProblems stops a garbage file from producing a wall of messages.
const maxProblems = 50

// position is where a path's key or value starts in the file, 1-based.
type position struct{ line, column int }

// Parse reads an architecture file, YAML or JSON, and fills in the defaults.
// It rejects unknown keys and values of the wrong kind, so a typo never
// passes silently; the error is Problems, listing every problem found.
// It does not check the values against the catalog: Load does that.
func Parse(data []byte) (Spec, error) {
	spec, w, err := parse(data)
	if err != nil {
		return Spec{}, err
	}
	if len(w.problems) > 0 {
		return Spec{}, w.problems
	}
	return spec, nil
}

// Load parses an architecture file and validates it against the catalog.
// Validation problems carry the line and column of their path when the file
// has it, so the form, API and CLI can all point at the offending line.
// A file with unknown keys or values of the wrong kind is still validated
// without them, so one pass lists every problem, not just the first kind.
func Load(data []byte, cat *pricing.Catalog) (Spec, error) {
	spec, w, err := parse(data)
	if err != nil {
		return Spec{}, err
	}
	var ps Problems
	if err := spec.Validate(cat); err != nil {
		if !errors.As(err, &ps) {
			return spec, err
		}
		for i := range ps {
			if pos, ok := lookupPosition(w.positions, ps[i].Path); ok {
				ps[i].Line, ps[i].Column = pos.line, pos.column
			}
		}
	}
	if len(w.problems) > 0 {
		return Spec{}, w.merge(ps)
	}
	if len(ps) > 0 {
		return spec, ps
	}
	return spec, nil
}

// merge lists the parse problems first, then the validation
// problems of what remained, leaving out those the parse problems explain: a
// second message for the same path, and a section's total (route shares add up
// to 0.7) while one of its values could not be read.
func (w walker) merge(validation Problems) Problems {
	out := append(Problems(nil), w.problems...)
	for _, v := range validation {
		explained := false
		for _, s := range w.problems {
			if s.Path == v.Path || w.valuePaths[s.Path] && v.Path != "" && (strings.HasPrefix(s.Path, v.Path+"[") || strings.HasPrefix(s.Path, v.Path+".")) {
				explained = true
				break
			}
		}
		if !explained {
			out = append(out, v)
		}
	}
	if len(out) > maxProblems+1 {
		out = append(out[:maxProblems], Problem{Message: fmt.Sprintf("and %d more problems", len(out)-maxProblems)})
	}
	return out
}

// lookupPosition finds the path's position, or that of its nearest parent
// the file has: a missing key is best shown where its parent is written.
func lookupPosition(positions map[string]position, path string) (position, bool) {
	for path != "" {
		if pos, ok := positions[path]; ok {
			return pos, true
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			break
		}
		path = path[:i]
	}
	return position{}, false
}

// parse reads the file into a Spec. Problems of shape (unknown keys, values
// of the wrong kind) come back as structural, with the Spec decoded from
// what was left once the offending keys and values were taken out; err is
// set when nothing could be decoded at all.
func parse(data []byte) (spec Spec, w walker, err error) {
	if ps := checkBytes(data); ps != nil {
		return Spec{}, w, ps
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	root, ps := decodeDocument(data)
	if ps != nil {
		return Spec{}, w, ps
	}
	w = walker{positions: map[string]position{}, valuePaths: map[string]bool{}}
	w.walk(root, reflect.TypeFor[Spec](), "")
	if err := root.Decode(&spec); err != nil {
		if len(w.problems) > 0 {
			return Spec{}, w, w.problems
		}
		return Spec{}, w, yamlProblems(err, data)
	}
	if pos, ok := w.positions["horizon_days"]; ok && spec.HorizonDays == 0 && !w.valuePaths["horizon_days"] {
		// A stated zero is refused, as the form refuses it; only an
		// absent horizon takes the default.
		w.problems = append(w.problems, Problem{Path: "horizon_days", Line: pos.line, Column: pos.column, Message: "must be at least 1"})
	}
	spec.ApplyDefaults()
	return spec, w, nil
}

// checkBytes rejects what is not a text file before any parser sees it.
func checkBytes(data []byte) Problems {
	if len(data) > maxFileSize {
		return Problems{{Message: "the file is larger than 1 MiB"}}
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\uFEFF")))) == 0 {
		return Problems{{Message: "the file is empty"}}
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		return Problems{{Message: "the file is gzip-compressed; decompress it and give the YAML or JSON text"}}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line, col := LineColumn(data, i)
		return Problems{{Line: line, Column: col, Message: "the file contains a NUL byte; it must be UTF-8 text"}}
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		line, col := LineColumn(data, i)
		return Problems{{Line: line, Column: col, Message: "the file is not valid UTF-8 text"}}
	}
	return nil
}

// LineColumn turns a byte offset into a 1-based line and column, counting
// characters, not bytes, as editors do.
func LineColumn(data []byte, offset int) (int, int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

// decodeDocument turns the file into a node tree. JSON is checked by
// encoding/json first because its errors carry an exact offset; the tree then
// comes from the YAML parser for both formats (JSON is YAML), so every later
// problem has a position from the same source.
func decodeDocument(data []byte) (*yaml.Node, Problems) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		// Unmarshal checks the syntax before anything else, so on invalid
		// input its error is always the syntax error, with an offset.
		if !json.Valid(data) {
			var syn *json.SyntaxError
			if err := json.Unmarshal(data, new(any)); errors.As(err, &syn) {
				line, col := LineColumn(data, int(syn.Offset)-1)
				if syn.Offset >= int64(len(data)) {
					line, col = LineColumn(data, len(data))
				}
				return nil, Problems{{Line: line, Column: col, Message: "JSON: " + syn.Error()}}
			}
			return nil, Problems{{Message: "the file is not valid JSON"}}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{Message: "the file is empty"}}
		}
		return nil, yamlProblems(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlProblems(err, data)
		}
		return nil, Problems{{Line: extra.Line, Column: extra.Column, Message: "the file holds more than one YAML document; keep only the first"}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, Problems{{Message: "the file is empty"}}
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, Problems{{Message: "the file is empty"}}
	}
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{Line: root.Line, Column: root.Column, Message: "the file must be a mapping of keys to values, starting with name: and providers:"}}
	}
	return root, nil
}

var yamlLinePattern = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlProblems turns the YAML parser's errors, "yaml: line 3: ...", into
// problems with a line, since that is what an editor can jump to.
func yamlProblems(err error, data []byte) Problems {
	var lines []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{err.Error()}
	}
	var ps Problems
	for _, l := range lines {
		l = strings.TrimPrefix(l, "yaml: ")
		p := Problem{Message: l}
		if m := yamlLinePattern.FindStringSubmatch(l); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Message = m[2]
		}
		if isParserError(p.Message) {
			// The YAML parser (unlike its scanner) counts lines from 0
			// and leaves out line 0.
			p.Line++
		}
		if strings.HasPrefix(p.Message, "exceeded max depth") {
			// The scanner leaves out line 0 too: without a line, the
			// nesting went too deep on the first line.
			p.Line = max(p.Line, 1)
			p.Message = strings.Replace(p.Message, "exceeded max depth of", "lists and mappings nest more than", 1) + " levels deep"
		}
		if strings.HasPrefix(p.Message, "found a tab character") ||
			(strings.HasPrefix(p.Message, "found character that cannot start any token") && lineHasTab(data, p.Line)) {
			p.Message += " (indent with spaces, not tabs)"
		}
		switch p.Message {
		case "did not find expected ',' or ']'":
			p.Message += " in the list that starts on this line"
		case "did not find expected ',' or '}'":
			p.Message += " in the mapping that starts on this line"
		}
		ps = append(ps, p)
	}
	return ps
}

func lineHasTab(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	return line >= 1 && line <= len(lines) && bytes.IndexByte(lines[line-1], '\t') >= 0
}

func isParserError(msg string) bool {
	return strings.HasPrefix(msg, "did not find expected") ||
		strings.HasPrefix(msg, "found duplicate %") ||
		msg == "found incompatible YAML document" ||
		msg == "found undefined tag handle"
}

// maxAliasValues bounds the values that aliases add to the walk. A YAML
// alias stands for its anchor's whole value, so a file of a few hundred
// kilobytes whose aliases repeat aliases stands for billions of values;
// walking them all would never finish. A real file that uses aliases at all
// repeats a provider or a list of models a few dozen times.
const maxAliasValues = 10_000

// walker checks a node tree against the Go type it will be decoded into,
// collecting every problem and the position of every path it sees.
type walker struct {
	problems   Problems
	positions  map[string]position
	valuePaths map[string]bool // paths whose value was taken out
	inAlias    int             // aliases being walked through
	aliased    int             // values walked through aliases
}

func (w *walker) add(path string, n *yaml.Node, msg string) {
	w.addProblem(path, n, msg)
	w.valuePaths[path] = true
	// Take the value out, so the rest of the file can still be decoded and
	// validated: a null leaves the field at its zero value.
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

// addKey reports a problem with a key; the caller drops the key and its value.
func (w *walker) addKey(path string, k *yaml.Node, msg string) {
	w.addProblem(path, k, msg)
}

func (w *walker) addProblem(path string, n *yaml.Node, msg string) {
	if len(w.problems) == maxProblems {
		w.problems = append(w.problems, Problem{Message: "too many problems; stopped looking"})
	}
	if len(w.problems) > maxProblems {
		return
	}
	w.problems = append(w.problems, Problem{Path: path, Line: n.Line, Column: n.Column, Message: msg})
}

func (w *walker) record(path string, n *yaml.Node) {
	if _, ok := w.positions[path]; !ok && path != "" {
		w.positions[path] = position{n.Line, n.Column}
	}
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	at := n
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if at != n || w.inAlias > 0 {
		w.aliased++
		if w.aliased > maxAliasValues {
			if w.aliased == maxAliasValues+1 {
				w.addProblem(path, at, fmt.Sprintf("aliases make the file stand for more than %d values; write the values out instead", maxAliasValues))
			}
			// Taking the anchor's value out stops every other alias of it,
			// here and when the tree is decoded.
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
			w.valuePaths[path] = true
			return
		}
		if at != n {
			w.inAlias++
			defer func() { w.inAlias-- }()
		}
	}
	w.record(path, n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the zero value; validation judges it
	}
	if t == reflect.TypeFor[Scenario]() && n.Kind == yaml.ScalarNode {
		if n.ShortTag() != "!!str" {
			w.add(path, n, "must be a scenario name or a mapping"+found(n))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(n, t.Elem(), path)
	case reflect.Struct:
		w.structure(n, t, path)
	case reflect.Map:
		w.dictionary(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(path, n, "must be a list"+found(n))
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		switch {
		case n.Kind != yaml.ScalarNode:
			w.add(path, n, "must be a string"+found(n))
		case n.ShortTag() != "!!str":
			w.add(path, n, "must be a string"+found(n)+" (put it in quotes)")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			w.add(path, n, "must be true or false"+found(n))
		}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		w.whole(n, t, path)
	case reflect.Float64:
		w.number(n, path)
	default:
		w.add(path, n, "cannot be read")
	}
}

// keyPath joins a parent path and a key the way problems name paths.
func keyPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.add(path, n, "must be a mapping"+found(n))
		return
	}
	fields := map[string]reflect.Type{}
	var names []string
	for f := range t.Fields() {
		name := yamlName(f)
		if name == "" {
			continue
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	seen := map[string]int{}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.addKey(path, k, "keys must be plain names")
			continue
		}
		child := keyPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.addKey(child, k, fmt.Sprintf("duplicate key (first at line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			msg := "unknown key"
			if s := new(pricing.Catalog).Suggest(names, k.Value); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			w.addKey(child, k, msg)
			continue
		}
		w.record(child, k)
		w.walk(v, ft, child)
		kept = append(kept, k, v)
	}
	n.Content = kept // offending keys are dropped, so the rest still decodes
}

func (w *walker) dictionary(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.add(path, n, "must be a mapping"+found(n))
		return
	}
	seen := map[string]int{}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			w.addKey(path, k, "keys must be names"+found(k))
			continue
		}
		child := keyPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.addKey(child, k, fmt.Sprintf("duplicate key (first at line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		w.record(child, k)
		w.walk(v, t.Elem(), child)
		kept = append(kept, k, v)
	}
	n.Content = kept
}

// whole checks an integer. A float that is a whole number (1e4, 10000.0) is
// accepted and rewritten as an integer, since the YAML decoder would
// otherwise truncate 1.5 silently.
func (w *walker) whole(n *yaml.Node, t reflect.Type, path string) {
	unsigned := t.Kind() == reflect.Uint64
	if n.Kind != yaml.ScalarNode {
		w.add(path, n, "must be a whole number"+found(n))
		return
	}
	if outOfRange(n.Value) {
		w.add(path, n, "is too large")
		return
	}
	switch n.ShortTag() {
	case "!!int":
		if unsigned {
			var i int64
			if n.Decode(&i) == nil && i < 0 {
				w.add(path, n, "must be zero or more")
				return
			}
			var u uint64
			if n.Decode(&u) != nil {
				w.add(path, n, "is too large")
			}
			return
		}
		var i int64
		if n.Decode(&i) != nil {
			w.add(path, n, "is too large")
		}
	case "!!float":
		var f float64
		if n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
			w.add(path, n, "must be a whole number"+found(n))
			return
		}
		switch {
		case unsigned && f < 0:
			w.add(path, n, "must be zero or more")
		case unsigned && f >= math.MaxUint64, !unsigned && math.Abs(f) >= math.MaxInt64:
			w.add(path, n, "is too large")
		case unsigned:
			n.Tag, n.Value, n.Style = "!!int", strconv.FormatUint(uint64(f), 10), 0
		default:
			n.Tag, n.Value, n.Style = "!!int", strconv.FormatInt(int64(f), 10), 0
		}
	default:
		w.add(path, n, "must be a whole number"+found(n))
	}
}

func (w *walker) number(n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && outOfRange(n.Value) {
		w.add(path, n, "is too large")
		return
	}
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		w.add(path, n, "must be a number"+found(n))
		return
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		w.add(path, n, "must be a number"+found(n))
		return
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.add(path, n, "must be a finite number")
	}
}

// outOfRange spots numbers like 1e400 that the YAML parser, unable to
// represent them, silently reads as text.
func outOfRange(v string) bool {
	_, err := strconv.ParseFloat(v, 64)
	return errors.Is(err, strconv.ErrRange)
}

// found describes what the file has instead, so "must be a number" also
// shows the offending value.
func found(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return ", not a list"
	case yaml.MappingNode:
		return ", not a mapping"
	case yaml.ScalarNode:
		v := n.Value
		if r := []rune(v); len(r) > 40 {
			v = string(r[:37]) + "..."
		}
		if n.ShortTag() == "!!str" {
			return fmt.Sprintf(", not %q", v)
		}
		return fmt.Sprintf(", not %s", v)
	}
	return ""
}

// yamlName is the key a struct field has in the file, "" when it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// ApplyDefaults fills what the file left out. It is idempotent, and it turns
// empty lists and mappings into absent ones, so a spec written out and read
// back is exactly the same spec.
func (s *Spec) ApplyDefaults() {
	if s.HorizonDays == 0 {
		s.HorizonDays = DefaultHorizonDays
	}
	if len(s.Gateways) == 0 {
		s.Gateways = GatewayIDs()
	}
	if len(s.Scenarios) == 0 {
		s.Scenarios = []Scenario{{Name: "baseline"}}
	}
	if s.Simulation.Trials == 0 {
		s.Simulation.Trials = DefaultTrials
	}
	if s.Simulation.Seed == 0 {
		s.Simulation.Seed = DefaultSeed
	}
	if s.Priorities == (Priorities{}) {
		s.Priorities = Priorities{Failover: 0.4, Cost: 0.4, Observability: 0.2}
	}
	if s.Team.Engineers == 0 {
		s.Team.Engineers = 1
	}
	if len(s.Providers) == 0 {
		s.Providers = nil
	}
	for i := range s.Providers {
		if len(s.Providers[i].Regions) == 0 {
			s.Providers[i].Regions = nil
		}
	}
	if len(s.Routes) == 0 {
		s.Routes = nil
	}
	for i := range s.Routes {
		if len(s.Routes[i].Models) == 0 {
			s.Routes[i].Models = nil
		}
	}
	if len(s.Traffic.Origin) == 0 {
		s.Traffic.Origin = nil
	}
	if len(s.Compliance.DataResidency) == 0 {
		s.Compliance.DataResidency = nil
	}
	if len(s.ObservabilityNeeds) == 0 {
		s.ObservabilityNeeds = nil
	}
	if m := s.OutageModel; m != nil {
		if len(m.Providers) == 0 {
			m.Providers = nil
		}
		if len(m.Gateways) == 0 {
			m.Gateways = nil
		}
		if m.CommonMode != nil && m.CommonMode.EventsPerYear == nil {
			m.CommonMode = nil
		}
		if m.Providers == nil && m.Gateways == nil && m.CommonMode == nil {
			s.OutageModel = nil
		}
	}
	for id, g := range s.GatewaySettings {
		if g == (GatewaySettings{}) {
			delete(s.GatewaySettings, id)
		}
	}
	if len(s.GatewaySettings) == 0 {
		s.GatewaySettings = nil
	}
}
