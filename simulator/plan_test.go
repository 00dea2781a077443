package simulator

import (
	"testing"

	"gatewise/pricing"
)

// Newer Claude models run on Bedrock through inference profiles only (the
// catalog prices them through the geographic profile, providers.yaml), so
// a plan calls them by profile id; other models by their id in the region.
func TestProviderModelBedrockProfile(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	for _, c := range []struct{ model, region, want string }{
		{"claude-sonnet-4.5", "us-east-1", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"claude-sonnet-4.5", "eu-central-1", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"claude-sonnet-4.5", "ap-northeast-1", "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"claude-sonnet-4.5", "ap-southeast-2", "au.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"claude-sonnet-4.5", "ap-south-1", "apac.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"claude-sonnet-4.5", "global", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"mistral-small", "us-east-1", "mistral.mistral-small-2402-v1:0"},
	} {
		if got := ProviderModel(cat, c.model, "aws-bedrock", c.region); got != c.want {
			t.Errorf("ProviderModel(%s, bedrock, %s) = %q, want %q", c.model, c.region, got, c.want)
		}
	}
}
