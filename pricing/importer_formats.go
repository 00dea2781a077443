package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// liteLLMProviders maps LiteLLM's litellm_provider values onto catalog
// providers; entries of other providers are skipped.
var liteLLMProviders = map[string]string{
	"openai":                     "openai",
	"anthropic":                  "anthropic",
	"gemini":                     "google-gemini",
	"vertex_ai":                  "google-vertex",
	"vertex_ai-language-models":  "google-vertex",
	"vertex_ai-anthropic_models": "google-vertex",
	"vertex_ai-mistral_models":   "google-vertex",
	"vertex_ai-embedding-models": "google-vertex",
	"bedrock":                    "aws-bedrock",
	"bedrock_converse":           "aws-bedrock",
	"azure":                      "azure-openai",
	"mistral":                    "mistral",
}

// liteLLMEntry holds the LiteLLM fields gatewise reads, in USD per token.
type liteLLMEntry struct {
	Provider   string   `json:"litellm_provider"`
	Input      *float64 `json:"input_cost_per_token"`
	Output     *float64 `json:"output_cost_per_token"`
	CacheRead  *float64 `json:"cache_read_input_token_cost"`
	CacheWrite *float64 `json:"cache_creation_input_token_cost"`
	Reasoning  *float64 `json:"output_cost_per_reasoning_token"`

	Input128k      *float64 `json:"input_cost_per_token_above_128k_tokens"`
	Output128k     *float64 `json:"output_cost_per_token_above_128k_tokens"`
	CacheRead128k  *float64 `json:"cache_read_input_token_cost_above_128k_tokens"`
	Input200k      *float64 `json:"input_cost_per_token_above_200k_tokens"`
	Output200k     *float64 `json:"output_cost_per_token_above_200k_tokens"`
	CacheRead200k  *float64 `json:"cache_read_input_token_cost_above_200k_tokens"`
	CacheWrite200k *float64 `json:"cache_creation_input_token_cost_above_200k_tokens"`
	Input272k      *float64 `json:"input_cost_per_token_above_272k_tokens"`
	Output272k     *float64 `json:"output_cost_per_token_above_272k_tokens"`
	CacheRead272k  *float64 `json:"cache_read_input_token_cost_above_272k_tokens"`
	CacheWrite272k *float64 `json:"cache_creation_input_token_cost_above_272k_tokens"`
}

var (
	// Bedrock geography and Azure data-zone keys carry a regional price; the
	// catalog derives those from the base price with its own uplift rules.
	bedrockGeoPrefix = regexp.MustCompile(`^(us|eu|apac|au|jp|ca|us-gov)\.`)
	azureZonePrefix  = regexp.MustCompile(`^azure/(eu|us)/`)
	awsRegionSegment = regexp.MustCompile(`/(us|eu|ap|ca|sa|me|af)(-gov)?-[a-z]+-\d/`)
)

const perTokenToPerMillion = 1e6

func (im *importer) liteLLM(entries []entry) error {
	im.overlay.Format = "litellm"
	for _, e := range entries {
		im.report.Entries++
		switch e.key {
		case "sample_spec":
			im.skip("LiteLLM schema example")
			continue
		case "last_updated":
			var s string
			if json.Unmarshal(e.raw, &s) == nil && len(s) >= 10 {
				im.overlay.AsOf = s[:10]
			}
			im.skip("file metadata")
			continue
		}
		var v liteLLMEntry
		if err := json.Unmarshal(e.raw, &v); err != nil {
			return im.fail(e, "wrong shape: %v", shapeErr(err))
		}
		// Shape and sign are checked on every entry: a negative price is a
		// broken file whichever model it belongs to.
		for _, p := range []*float64{v.Input, v.Output, v.CacheRead, v.CacheWrite, v.Reasoning} {
			if p != nil && *p < 0 {
				return im.fail(e, "negative price %v", *p)
			}
		}
		provider, ok := liteLLMProviders[v.Provider]
		if !ok {
			im.skip("provider not in the catalog")
			continue
		}
		key := e.key
		if azureZonePrefix.MatchString(key) || awsRegionSegment.MatchString(key) {
			im.skip("regional variant (the catalog applies its own uplift)")
			continue
		}
		name := key[strings.LastIndexByte(key, '/')+1:]
		if provider == "aws-bedrock" {
			if bedrockGeoPrefix.MatchString(name) {
				im.skip("regional variant (the catalog applies its own uplift)")
				continue
			}
			name = strings.TrimPrefix(name, "global.")
		}
		t, ok := im.lookup(provider, name)
		if !ok {
			im.skip("no catalog model of that name")
			continue
		}
		if v.Input == nil || v.Output == nil {
			im.skip("no input or output price")
			continue
		}
		base := partialPrices{
			input:      scaled(v.Input, perTokenToPerMillion),
			output:     scaled(v.Output, perTokenToPerMillion),
			cacheRead:  scaled(nonZero(v.CacheRead), perTokenToPerMillion),
			cacheWrite: scaled(nonZero(v.CacheWrite), perTokenToPerMillion),
			reasoning:  scaled(nonZero(v.Reasoning), perTokenToPerMillion),
		}
		var long partialPrices
		above := 0
		for _, tierSpec := range []struct {
			above           int
			in, out, cr, cw *float64
		}{
			{128_000, v.Input128k, v.Output128k, v.CacheRead128k, nil},
			{200_000, v.Input200k, v.Output200k, v.CacheRead200k, v.CacheWrite200k},
			{272_000, v.Input272k, v.Output272k, v.CacheRead272k, v.CacheWrite272k},
		} {
			if tierSpec.in != nil && tierSpec.out != nil {
				above = tierSpec.above
				long = partialPrices{
					input: scaled(tierSpec.in, perTokenToPerMillion), output: scaled(tierSpec.out, perTokenToPerMillion),
					cacheRead: scaled(nonZero(tierSpec.cr), perTokenToPerMillion), cacheWrite: scaled(nonZero(tierSpec.cw), perTokenToPerMillion),
				}
				break
			}
		}
		if err := im.add(e, t, base, above, long); err != nil {
			return err
		}
	}
	return nil
}

// nonZero treats a zero cache or reasoning price as absent: files write 0
// where the provider has no separate charge, and the catalog's default (the
// input or output price) is then the right one.
func nonZero(v *float64) *float64 {
	if v == nil || *v == 0 {
		return nil
	}
	return v
}

// shapeErr words a JSON type error without Go type names.
func shapeErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q holds a JSON %s", te.Field, te.Value)
	}
	return err
}

// openRouterAuthors maps OpenRouter's model authors onto the catalog
// provider that serves the model first-hand. OpenRouter passes that
// provider's list price through, so its price is a check on ours; authors
// whose models the catalog only has through a cloud (Meta) are skipped.
var openRouterAuthors = map[string]string{
	"openai":    "openai",
	"anthropic": "anthropic",
	"google":    "google-gemini",
	"mistralai": "mistral",
	"amazon":    "aws-bedrock",
}

type openRouterModel struct {
	ID      string `json:"id"`
	Pricing *struct {
		Prompt     *string `json:"prompt"`
		Completion *string `json:"completion"`
		CacheRead  *string `json:"input_cache_read"`
		CacheWrite *string `json:"input_cache_write"`
		Reasoning  *string `json:"internal_reasoning"`
	} `json:"pricing"`
}

func (im *importer) openRouter(raw json.RawMessage) error {
	im.overlay.Format = "openrouter"
	// Locate the array inside the whole file so lines are the file's lines.
	offset := bytes.Index(im.data, raw)
	entries, err := arrayEntries(raw)
	if err != nil {
		var many *errTooManyEntries
		if errors.As(err, &many) {
			many.offset += int64(max(offset, 0))
		}
		return entriesError(im.name, im.data, err)
	}
	before := 0
	if offset >= 0 {
		before = bytes.Count(im.data[:offset], []byte("\n"))
	}
	for _, e := range entries {
		e.line += before
		im.report.Entries++
		var m openRouterModel
		if err := json.Unmarshal(e.raw, &m); err != nil {
			return im.fail(e, "wrong shape: %v", shapeErr(err))
		}
		e.key = m.ID
		if m.ID == "" {
			return im.fail(e, "model without an id")
		}
		if m.Pricing == nil || m.Pricing.Prompt == nil || m.Pricing.Completion == nil {
			im.skip("no prompt or completion price")
			continue
		}
		prices := make([]*float64, 5)
		for i, s := range []*string{m.Pricing.Prompt, m.Pricing.Completion, m.Pricing.CacheRead, m.Pricing.CacheWrite, m.Pricing.Reasoning} {
			if s == nil || *s == "" {
				continue
			}
			v, err := strconv.ParseFloat(*s, 64)
			if err != nil {
				return im.fail(e, "price %q is not a number", *s)
			}
			prices[i] = &v
		}
		if prices[0] == nil || prices[1] == nil {
			im.skip("no prompt or completion price")
			continue
		}
		if *prices[0] == -1 || *prices[1] == -1 {
			im.skip("no static price (a router)")
			continue
		}
		for _, p := range prices {
			if p != nil && *p < 0 {
				return im.fail(e, "negative price %v", *p)
			}
		}
		author, name, ok := strings.Cut(m.ID, "/")
		provider, known := openRouterAuthors[author]
		if !ok || !known {
			im.skip("author has no first-party host in the catalog")
			continue
		}
		if strings.Contains(name, ":") {
			im.skip("variant (:free, :thinking, ...)")
			continue
		}
		t, ok := im.lookup(provider, name)
		if !ok {
			im.skip("no catalog model of that name")
			continue
		}
		base := partialPrices{
			input:      scaled(prices[0], perTokenToPerMillion),
			output:     scaled(prices[1], perTokenToPerMillion),
			cacheRead:  scaled(nonZero(prices[2]), perTokenToPerMillion),
			cacheWrite: scaled(nonZero(prices[3]), perTokenToPerMillion),
			reasoning:  scaled(nonZero(prices[4]), perTokenToPerMillion),
		}
		if err := im.add(e, t, base, 0, partialPrices{}); err != nil {
			return err
		}
	}
	return nil
}

// arrayEntries walks a JSON array's elements with their lines.
func arrayEntries(data []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('[') {
		return nil, &json.UnmarshalTypeError{Value: "non-array", Offset: dec.InputOffset()}
	}
	lines := lineCounter{data: data}
	var out []entry
	for dec.More() {
		if len(out) == maxImportEntries {
			return nil, tooManyEntries(data, dec.InputOffset())
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		line := lines.at(dec.InputOffset() - int64(len(raw)))
		out = append(out, entry{line: line, raw: raw})
	}
	return out, nil
}

// portkeyProviders maps Portkey's per-provider file names onto catalog
// providers. Portkey files carry no provider field, so the name decides.
var portkeyProviders = map[string]string{
	"openai":       "openai",
	"anthropic":    "anthropic",
	"google":       "google-gemini",
	"vertex-ai":    "google-vertex",
	"bedrock":      "aws-bedrock",
	"azure-openai": "azure-openai",
	"mistral-ai":   "mistral",
}

type portkeyPrice struct {
	Price *float64 `json:"price"`
}

type portkeyEntry struct {
	PricingConfig *struct {
		PayAsYouGo *struct {
			Request    *portkeyPrice `json:"request_token"`
			Response   *portkeyPrice `json:"response_token"`
			CacheRead  *portkeyPrice `json:"cache_read_input_token"`
			CacheWrite *portkeyPrice `json:"cache_write_input_token"`
			Reasoning  *portkeyPrice `json:"reasoning_token"`
		} `json:"pay_as_you_go"`
	} `json:"pricing_config"`
}

// Portkey prices are US cents per token: ×1e4 gives USD per million.
const portkeyCentsToPerMillion = 1e4

// portkeyTier splits Portkey's "-lte-200k" / "-gt-200k" model names into the
// base name, which side of the threshold, and the threshold.
var portkeyTier = regexp.MustCompile(`^(.*)-(lte|gt)-(\d+)k$`)

func (im *importer) portkey(entries []entry) error {
	im.overlay.Format = "portkey"
	base := strings.TrimSuffix(path.Base(strings.ReplaceAll(im.name, `\`, "/")), ".json")
	provider, ok := portkeyProviders[base]
	if !ok {
		names := make([]string, 0, len(portkeyProviders))
		for k := range portkeyProviders {
			names = append(names, k+".json")
		}
		return &ImportError{Name: im.name, Err: fmt.Errorf("a Portkey price file covers one provider and is named after it; %q is not one gatewise maps (%s)", base, strings.Join(slices.Sorted(slices.Values(names)), ", "))}
	}
	type pending struct {
		e          entry
		t          aliasTarget
		base, long partialPrices
		above      int
	}
	var order []hostKey
	byHost := map[hostKey]*pending{}
	for _, e := range entries {
		im.report.Entries++
		if e.key == "default" {
			im.skip("Portkey formula defaults")
			continue
		}
		var v portkeyEntry
		if err := json.Unmarshal(e.raw, &v); err != nil {
			return im.fail(e, "wrong shape: %v", shapeErr(err))
		}
		if v.PricingConfig == nil || v.PricingConfig.PayAsYouGo == nil {
			im.skip("no pay-as-you-go prices")
			continue
		}
		p := v.PricingConfig.PayAsYouGo
		get := func(pp *portkeyPrice) *float64 {
			if pp == nil {
				return nil
			}
			return pp.Price
		}
		for _, f := range []*float64{get(p.Request), get(p.Response), get(p.CacheRead), get(p.CacheWrite), get(p.Reasoning)} {
			if f != nil && *f < 0 {
				return im.fail(e, "negative price %v", *f)
			}
		}
		name, side, above := e.key, "", 0
		if m := portkeyTier.FindStringSubmatch(e.key); m != nil {
			k, _ := strconv.Atoi(m[3])
			name, side, above = m[1], m[2], k*1000
		}
		t, ok := im.lookup(provider, name)
		if !ok {
			im.skip("no catalog model of that name")
			continue
		}
		if get(p.Request) == nil || get(p.Response) == nil {
			im.skip("no input or output price")
			continue
		}
		prices := partialPrices{
			input:      scaled(get(p.Request), portkeyCentsToPerMillion),
			output:     scaled(get(p.Response), portkeyCentsToPerMillion),
			cacheRead:  scaled(nonZero(get(p.CacheRead)), portkeyCentsToPerMillion),
			cacheWrite: scaled(nonZero(get(p.CacheWrite)), portkeyCentsToPerMillion),
			reasoning:  scaled(nonZero(get(p.Reasoning)), portkeyCentsToPerMillion),
		}
		k := hostKey{t.model, t.provider}
		pe := byHost[k]
		if pe == nil {
			pe = &pending{e: e, t: t}
			byHost[k] = pe
			order = append(order, k)
		} else if side == "" && pe.base.input != nil {
			// Two plain names for one host: keep the better match.
			im.skip("duplicate: another key prices the same host")
			if pe.t.priority <= t.priority {
				continue
			}
			pe.e, pe.t = e, t
		}
		if pe.e.line != e.line && side != "" {
			im.report.Merged++
		}
		switch side {
		case "gt":
			pe.long, pe.above = prices, above
		default:
			pe.base = prices
			if side == "" || pe.e.key == "" {
				pe.e = e
			}
		}
	}
	for _, k := range order {
		pe := byHost[k]
		if pe.base.input == nil {
			im.skip("long-context tier without a base price")
			continue
		}
		if err := im.add(pe.e, pe.t, pe.base, pe.above, pe.long); err != nil {
			return err
		}
	}
	return nil
}
