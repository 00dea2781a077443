package gatewise

import (
	"slices"
	"testing"

	"gatewise/pricing"
	"gatewise/simulator"
)

func TestExampleNames(t *testing.T) {
	t.Parallel()
	want := []string{"eu-regulated", "multi-region", "single-provider"}
	if got := ExampleNames(); !slices.Equal(got, want) {
		t.Errorf("ExampleNames() = %v, want %v", got, want)
	}
}

func TestExamplesLoad(t *testing.T) {
	t.Parallel()
	for _, name := range ExampleNames() {
		data, err := Example(name)
		if err != nil {
			t.Fatalf("Example(%q): %v", name, err)
		}
		if _, err := simulator.Load(data, pricing.Default()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestExampleUnknown(t *testing.T) {
	t.Parallel()
	tests := []string{"", "nope", "multi-region.yaml", "../go.mod", "*"}
	for _, name := range tests {
		if data, err := Example(name); err == nil {
			t.Errorf("Example(%q) = %d bytes, want an error", name, len(data))
		}
	}
}
