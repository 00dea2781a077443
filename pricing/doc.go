// Package pricing is gatewise's price and gateway catalog: which providers,
// regions and models exist, what each request costs on each host, and what
// each gateway charges on top, every figure with the date and source it
// comes from.
//
// The facts live in data/providers.yaml, data/models.yaml and
// data/gateways.yaml, embedded in the binary and parsed strictly (unknown
// keys, missing as_of or source, and hosts on unknown providers or regions
// are errors with file and line). Default parses them once; tests load them
// too, so a broken edit fails `go test`, never a user.
//
// Costing a request is meant for the simulator's inner loop: the catalog
// precomputes a RateTable of per-token Rates for every (model, provider,
// region), regional uplift folded in, and Rates.Cost is a handful of
// multiply-adds with no allocation. GatewayCost picks a gateway's cheapest
// plan that meets a team's needs and prices it, self-hosting included.
//
// Import reads LiteLLM, OpenRouter and Portkey price files into an Overlay
// that WithOverlay applies and Diff compares, so the catalog can be checked
// against the prices others publish. A price file is an upload, so Import
// bounds it (MaxImportBytes, 100,000 entries) and refuses what is not JSON
// text, with the line and column where it can.
//
// The package is pure and imports nothing else from gatewise, so every other
// package can depend on it.
package pricing
