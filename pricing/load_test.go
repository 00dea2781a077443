package pricing

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"
)

func TestEmbeddedCatalogLoads(t *testing.T) {
	t.Parallel()
	cat, err := Load(dataFS)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cat.Models()); n < 40 {
		t.Errorf("%d models, want at least 40", n)
	}
	var ids []string
	for _, g := range cat.Gateways() {
		ids = append(ids, g.ID)
		for _, p := range g.Plans {
			if p.AsOf == "" || p.Source == "" {
				t.Errorf("%s/%s lacks as_of or source", g.ID, p.ID)
			}
		}
	}
	if !slices.Equal(ids, GatewayIDs()) {
		t.Errorf("gateways = %v, want %v", ids, GatewayIDs())
	}
	for _, m := range cat.Models() {
		for _, o := range m.Offers {
			if o.AsOf != "2026-07-24" && len(o.AsOf) != len("2006-01-02") {
				t.Errorf("%s on %s: as_of %q", m.ID, o.Provider, o.AsOf)
			}
			if o.Prices.Input <= 0 && !strings.Contains(m.ID, "free") {
				t.Errorf("%s on %s has no input price", m.ID, o.Provider)
			}
		}
	}
	for _, p := range cat.Providers() {
		if p.Compliance.SOC2.Value == "" || p.Compliance.HIPAABAA.Source == "" {
			t.Errorf("%s lacks compliance facts", p.ID)
		}
	}
}

// TestExampleModelsPriced keeps every model the bundled examples route to
// priced on every host they name.
func TestExampleModelsPriced(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "examples", "*.yaml"))
	if len(files) == 0 {
		t.Skip("no example architectures found under ../testdata/examples")
	}
	cat := Default()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var spec struct {
			Routes []struct {
				Models []string `yaml:"models"`
			} `yaml:"routes"`
		}
		if err := yaml.Unmarshal(data, &spec); err != nil {
			t.Fatal(err)
		}
		for _, r := range spec.Routes {
			for _, id := range r.Models {
				m, ok := cat.Model(id)
				if !ok {
					t.Errorf("%s: model %s missing", f, id)
					continue
				}
				for _, h := range m.Hosts {
					if _, err := cat.Price(id, h, ""); err != nil {
						t.Errorf("%s: %v", f, err)
					}
				}
			}
		}
	}
}

// TestLoadRejects feeds broken data files and checks each problem is named
// with its file and line.
func TestLoadRejects(t *testing.T) {
	t.Parallel()
	good := map[string]string{}
	for _, name := range []string{"providers.yaml", "models.yaml", "gateways.yaml"} {
		data, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		good[name] = string(data)
	}
	tests := []struct {
		name, file, old, new, want string
	}{
		{"unknown key", "models.yaml", "    name: \"GPT-4.1\"\n", "    name: \"GPT-4.1\"\n    nmae: x\n", "models.yaml:13: field nmae not found"},
		{"missing source", "providers.yaml", `        source: "developers.openai.com/api/docs/guides/data-residency (2026 copy); LiteLLM regional_processing_uplift_multiplier_eu/_us = 1.1 on exactly these models (2026-07-24)"` + "\n", "", "providers.yaml:16: providers[0].residency[0]: source is required"},
		{"unknown host provider", "models.yaml", "      - provider: azure-openai\n        model_id: \"gpt-4.1\"\n", "      - provider: azure-open-ai\n        model_id: \"gpt-4.1\"\n", `unknown provider "azure-open-ai"`},
		{"bad date", "gateways.yaml", "        as_of: 2026-09-20\n", "        as_of: last week\n", `as_of "last week" is not a date`},
		{"negative price", "models.yaml", "prices: {input: 2, output: 8, cache_read: 0.5}", "prices: {input: -2, output: 8, cache_read: 0.5}", "prices.input: -2 is outside"},
		{"missing gateway", "gateways.yaml", "  - id: kong\n", "  - id: kongg\n", `gateway "kong" is missing`},
		{"hosted gateway without compliance", "gateways.yaml", "    compliance:\n      soc2: {value: \"yes\", as_of: 2026-07-28, source: \"claimed by Portkey: SOC 2, ISO 27001, GDPR, HIPAA (portkey.ai/docs FAQ, 2026 copy; github.com/cuihuan/awesome-ai-gateway data/gateways_eval.json, 2026-07-28)\"}\n", "    compliance:\n", "compliance.soc2 is required"},
		{"unknown fact value", "gateways.yaml", "soc2: {value: unknown,", "soc2: {value: maybe,", `value "maybe" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{}
			for name, data := range good {
				if name == tt.file {
					if !strings.Contains(data, tt.old) {
						t.Fatalf("test fixture: %q not in %s", tt.old, name)
					}
					data = strings.Replace(data, tt.old, tt.new, 1)
				}
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			_, err := Load(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
