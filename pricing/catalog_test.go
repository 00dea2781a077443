package pricing

import (
	"slices"
	"testing"
)

func TestProviderRegions(t *testing.T) {
	t.Parallel()
	cat := Default()
	tests := []struct {
		provider, region, want string
		ok                     bool
	}{
		{"openai", "eu", "eu", true},
		{"openai", "jp", "ap", true},
		{"anthropic", "global", "global", true},
		{"aws-bedrock", "eu-central-1", "eu", true},
		{"google-vertex", "europe-west4", "eu", true},
		{"google-vertex", "us", "us", true},
		{"azure-openai", "uksouth", "uk", true},
		{"azure-openai", "swedencentral", "eu", true},
		{"mistral", "eu", "eu", true},
		{"mistral", "us", "", false},
		{"aws-bedrok", "us-east-1", "", false},
	}
	for _, tt := range tests {
		got, ok := cat.Jurisdiction(tt.provider, tt.region)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Jurisdiction(%q, %q) = %q, %v; want %q, %v", tt.provider, tt.region, got, ok, tt.want, tt.ok)
		}
	}
}

func TestProvidersAndModels(t *testing.T) {
	t.Parallel()
	cat := Default()
	var ids []string
	for _, p := range cat.Providers() {
		ids = append(ids, p.ID)
	}
	want := []string{"openai", "anthropic", "google-gemini", "google-vertex", "aws-bedrock", "azure-openai", "mistral"}
	if !slices.Equal(ids, want) {
		t.Errorf("Providers() = %v, want %v", ids, want)
	}
	models := cat.Models()
	if !slices.IsSortedFunc(models, func(a, b Model) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	}) {
		t.Error("Models() is not sorted by id")
	}
	tests := []struct {
		model string
		hosts []string
	}{
		{"claude-sonnet-4.5", []string{"anthropic", "aws-bedrock", "google-vertex"}},
		{"gpt-4.1-mini", []string{"openai", "azure-openai"}},
		{"gemini-2.5-pro", []string{"google-gemini", "google-vertex"}},
		{"mistral-small", []string{"mistral", "aws-bedrock", "google-vertex"}},
	}
	for _, tt := range tests {
		m, ok := cat.Model(tt.model)
		if !ok || !slices.Equal(m.Hosts, tt.hosts) {
			t.Errorf("Model(%q) = %+v, %v; want hosts %v", tt.model, m, ok, tt.hosts)
		}
	}
	if _, ok := cat.Model("gpt-4.2"); ok {
		t.Error(`Model("gpt-4.2") found a model that does not exist`)
	}
	for _, m := range models {
		for _, h := range m.Hosts {
			if _, ok := cat.Provider(h); !ok {
				t.Errorf("model %s names unknown host %s", m.ID, h)
			}
		}
	}
}

func TestCatalogCopies(t *testing.T) {
	t.Parallel()
	cat := Default()
	p, _ := cat.Provider("openai")
	p.Regions[0].ID = "changed"
	if again, _ := cat.Provider("openai"); again.Regions[0].ID != "us" {
		t.Errorf("changing a returned provider changed the catalog: %q", again.Regions[0].ID)
	}
}

func TestJurisdictions(t *testing.T) {
	t.Parallel()
	got := Default().Jurisdictions()
	want := []string{"ap", "eu", "global", "uk", "us"}
	if !slices.Equal(got, want) {
		t.Errorf("Jurisdictions() = %v, want %v", got, want)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	cat := Default()
	var ids []string
	for _, p := range cat.Providers() {
		ids = append(ids, p.ID)
	}
	tests := []struct {
		candidates []string
		in, want   string
	}{
		{ids, "aws-bedrok", "aws-bedrock"},
		{ids, "OpenAI", "openai"},
		{ids, "opnai", "openai"},
		{ids, "mistrla", "mistral"},
		{ids, "cohere", ""},
		{[]string{"name", "share", "models"}, "modles", "models"},
		{[]string{"us", "eu"}, "xx", ""},
		{nil, "anything", ""},
	}
	for _, tt := range tests {
		if got := cat.Suggest(tt.candidates, tt.in); got != tt.want {
			t.Errorf("Suggest(%v, %q) = %q, want %q", tt.candidates, tt.in, got, tt.want)
		}
	}
}
