// Package gatewise holds what belongs to the whole app rather than one of
// its parts: for now, the example architecture files shipped with it, which
// the form offers as starting points and the tests treat as known-good input.
package gatewise

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed testdata/examples/*.yaml
var examples embed.FS

// Example returns the example architecture file with the given name, without
// its extension ("multi-region").
func Example(name string) ([]byte, error) {
	if !slices.Contains(ExampleNames(), name) {
		return nil, fmt.Errorf("no example named %q (known: %s)", name, strings.Join(ExampleNames(), ", "))
	}
	return examples.ReadFile("testdata/examples/" + name + ".yaml")
}

// ExampleNames lists the examples, sorted, so menus and tests are stable.
func ExampleNames() []string {
	files, err := fs.Glob(examples, "testdata/examples/*.yaml")
	if err != nil {
		return nil // the pattern is constant and valid
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(path.Base(f), ".yaml")
	}
	slices.Sort(names)
	return names
}
