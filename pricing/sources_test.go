package pricing

import (
	"testing"

	"gatewise/internal/citation"
)

// Every source and note the catalog hands out names a public source.
func TestCatalogCitesPublicSources(t *testing.T) {
	t.Parallel()
	c := Default()
	check := func(path, s string) {
		if citation.Internal(s) {
			t.Errorf("%s cites an internal file: %q", path, s)
		}
	}
	citation.Walk(c.Providers(), "providers", check)
	citation.Walk(c.Models(), "models", check)
	citation.Walk(c.Gateways(), "gateways", check)
}

// The data files too, comments aside, so a string the loader does not
// hand out yet cannot bring an internal reference back either.
func TestDataFilesCitePublicSources(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"providers.yaml", "models.yaml", "gateways.yaml"} {
		data, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range citation.InternalLines(data) {
			t.Errorf("data/%s:%d cites an internal file", name, line)
		}
	}
}
