// Package citation tells a source a reader can open from one they cannot:
// the memo and the catalog page quote the catalog's sources, and a
// reference to gatewise's own research notes means nothing to them. The
// data packages' tests walk their loaded facts and data files with it.
package citation

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// internal matches a section sign, the research folder, a bare note file
// name (gateways.md, outages.md; a public page ending in .md keeps its
// path, as in openrouter.ai/docs/faq.md) or the notes' shorthand for their
// sources.
var internal = regexp.MustCompile(`§|shared/research|(?:^|[^\w./-])[\w-]+\.md\b|\b(?:AAG|APIEV(?:-[\w-]+)?|FOB|LGB)\b`)

// Internal tells whether s cites something only gatewise's engineers can
// open.
func Internal(s string) bool { return internal.MatchString(s) }

// InternalLines lists the 1-based numbers of the lines of a YAML data file
// that cite something internal, comments aside, so a string no loader
// hands out yet cannot bring an internal reference back either.
func InternalLines(data []byte) []int {
	var out []int
	for i, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") && Internal(line) {
			out = append(out, i+1)
		}
	}
	return out
}

// Walk calls f with every string reachable from v, and its path from
// name.
func Walk(v any, name string, f func(path, s string)) { walk(reflect.ValueOf(v), name, f) }

func walk(v reflect.Value, path string, f func(path, s string)) {
	switch v.Kind() {
	case reflect.String:
		f(path, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), path, f)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			walk(v.Field(i), path+"."+v.Type().Field(i).Name, f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), f)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			walk(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key()), f)
		}
	}
}
