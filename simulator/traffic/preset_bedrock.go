package traffic

import (
	"strings"
	"sync"

	"gatewise/pricing"
)

// Amazon Bedrock names a model in its invocation logs (modelId), and in the
// logs of gateways in front of it, by the id a request was sent with:
//
//	anthropic.claude-3-5-sonnet-20240620-v1:0                  a foundation model: vendor.model-vN:M
//	us.anthropic.claude-3-7-sonnet-20250219-v1:0               a cross-Region inference profile: a geography
//	                                                           (us, eu, apac, jp, au, ca, us-gov, global) before it
//	arn:aws:bedrock:us-east-1::foundation-model/anthropic.…    either as an ARN; a foundation model's has no account
//	arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.…
//
// Sources (read 2026-12-01): the modelIdentifier pattern of
// docs.aws.amazon.com/bedrock/latest/APIReference/API_EvaluationBedrockModel.html
// (foundation-model, inference-profile with a 2–8 letter geography, and the
// application-inference-profile, provisioned-model, imported-model and
// prompt-router ARNs, whose ids are opaque); the model ids of
// docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html (the
// vendors below); the geographies of
// docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
// and, for jp., dev.classmethod.jp/articles/tsnote-bedrock-check-inference-profile-name
// (2026-04-08).
//
// bedrockModel reads such an id as the catalog's name for the model: the
// aws-bedrock host's model id in the embedded catalog when one matches
// (meta.llama3-3-70b-instruct-v1:0 is llama-3.3-70b), else the id without
// its geography, vendor and version (anthropic.claude-3-5-haiku-20241022-v1:0
// is claude-3-5-haiku-20241022, which normalizeModel reads further). An id
// of another shape, or an opaque one (an application inference profile), is
// not Bedrock's to read: it stays as it is.

// bedrockVendors are the model providers whose ids Bedrock prefixes with
// their name and a dot (models-supported.html); TestBedrockCatalogIDs
// checks that they cover every Bedrock id of the catalog.
var bedrockVendors = map[string]bool{"ai21": true, "amazon": true, "anthropic": true, "cohere": true, "deepseek": true,
	"google": true, "luma": true, "meta": true, "minimax": true, "mistral": true, "moonshot": true, "moonshotai": true,
	"nvidia": true, "openai": true, "qwen": true, "stability": true, "twelvelabs": true, "writer": true}

// bedrockCatalog maps the catalog's Bedrock ids, without their version
// (bedrockKey), to its model names. It is built from the embedded catalog
// the first time a log names a model the Bedrock way.
var bedrockCatalog = sync.OnceValue(func() map[string]string {
	ids := map[string]string{}
	for _, m := range pricing.Default().Models() {
		for _, o := range m.Offers {
			if o.Provider != "aws-bedrock" {
				continue
			}
			for _, id := range append([]string{o.ModelID}, o.Aliases...) {
				if base, ok := bedrockID(strings.ToLower(strings.TrimSpace(id))); ok {
					if _, taken := ids[bedrockKey(base)]; !taken {
						ids[bedrockKey(base)] = m.ID
					}
				}
			}
		}
	}
	return ids
})

// bedrockModel is the catalog's name, or the plain name, of a model id
// written the Bedrock way; ok is false for any other name. s is lower case.
func bedrockModel(s string) (string, bool) {
	base, ok := bedrockID(s)
	if !ok {
		return "", false
	}
	if name, ok := bedrockCatalog()[bedrockKey(base)]; ok {
		return name, true
	}
	_, model, _ := strings.Cut(bedrockKey(base), ".")
	// The version: claude-3-5-haiku-20241022-v1, titan-text-express-v1;
	// a name that would be left without a dash keeps it (claude-v2).
	if i := strings.LastIndex(model, "-v"); i > 0 && allDigits(model[i+2:]) && strings.Contains(model[:i], "-") {
		model = model[:i]
	}
	return model, model != ""
}

// bedrockID reduces a Bedrock model reference to vendor.model[:version]:
// an ARN to its resource, a cross-Region profile to its model. ok is false
// when s is not one, or names an opaque resource.
func bedrockID(s string) (string, bool) {
	if i := strings.Index(s, "arn:aws"); i >= 0 {
		head, id, ok := strings.Cut(s[i:], "/")
		if !ok || !strings.Contains(head, ":bedrock:") {
			return "", false
		}
		switch head[strings.LastIndexByte(head, ':')+1:] {
		case "foundation-model", "inference-profile":
			s = id
		default:
			return "", false // application-inference-profile, provisioned-model, …: opaque ids
		}
	} else if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:] // a gateway's prefix: bedrock/us.anthropic.…
	}
	first, rest, ok := strings.Cut(s, ".")
	if !ok {
		return "", false
	}
	if bedrockVendors[first] {
		return s, rest != ""
	}
	// A geography: two to eight letters or dashes, before a vendor.
	if len(first) < 2 || len(first) > 8 || strings.Trim(first, "abcdefghijklmnopqrstuvwxyz-") != "" {
		return "", false
	}
	v, model, ok := strings.Cut(rest, ".")
	if !ok || !bedrockVendors[v] || model == "" {
		return "", false
	}
	return rest, true
}

// bedrockKey is an id without its version after a colon (…-v1:0 and …-v1
// are the same model).
func bedrockKey(id string) string {
	if i := strings.IndexByte(id, ':'); i > 0 {
		return id[:i]
	}
	return id
}

func allDigits(t string) bool {
	for _, c := range t {
		if c < '0' || c > '9' {
			return false
		}
	}
	return t != ""
}
