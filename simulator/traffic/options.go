package traffic

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"
)

// RouteBy says how a request finds its route.
type RouteBy uint8

// Route rules.
const (
	// RouteAuto routes by model when routes are given, else sends everything
	// to one route named "all".
	RouteAuto RouteBy = iota
	// RouteByModel puts a request on the first route whose Models holds its
	// model (compared without case, provider prefix or date suffix).
	RouteByModel
	// RouteByField reads the route field (mapped, or the preset's metadata
	// field such as LiteLLM's request tags) and matches it against each
	// route's Name and Values; without routes, every value is its own route.
	RouteByField
	// RouteSingle sends everything to the first route (or "all").
	RouteSingle
)

// ParseRouteBy reads "auto", "model", "field" or "single".
func ParseRouteBy(s string) (RouteBy, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return RouteAuto, nil
	case "model":
		return RouteByModel, nil
	case "field", "metadata":
		return RouteByField, nil
	case "single", "one", "all":
		return RouteSingle, nil
	}
	return 0, fmt.Errorf("unknown route rule %q (auto, model, field, single)", s)
}

// Route is one of the architecture's routes, as the reader needs it.
type Route struct {
	Name   string
	Models []string // for RouteByModel
	Values []string // for RouteByField, besides Name itself
}

// ReadOptions controls Read. The zero value reads any known format with
// one-minute bins, everything on one route and one origin.
type ReadOptions struct {
	// Format is "auto" (or empty), a preset name, or "csv", "jsonl" or
	// "json" for a plain container read through Mapping alone.
	Format string
	// Mapping overrides the preset field by field, or is the whole mapping
	// of a file no preset knows.
	Mapping Mapping
	// Start anchors traces whose clocks start at zero (offset units).
	Start time.Time
	// BinWidth is the profile's time step; default one minute.
	BinWidth time.Duration
	// Routes are the architecture's routes; rows that match none go to
	// OtherRoute (default "other").
	Routes     []Route
	RouteBy    RouteBy
	OtherRoute string
	// OtherServedAs is the route the simulation serves OtherRoute's
	// requests as, for the summary's note; empty says nothing of it.
	OtherServedAs string
	// OriginMix assigns origins to rows whose log does not say where they
	// came from, in these proportions (deterministically, by row position).
	// A mapped origin field wins when its value is a key of the mix or of
	// OriginMap.
	OriginMix map[string]float64
	// OriginMap renames origin values (country codes to jurisdictions, say).
	OriginMap map[string]string
	// Known tells models the price catalog knows; nil means all are known.
	Known func(model string) bool
	// MaxBadFraction is the share of bad rows above which Read refuses the
	// file; default 0.1. Set it to 1 to accept anything readable.
	MaxBadFraction float64
	// MaxLineBytes bounds one row (or one JSON value); default 4 MiB.
	MaxLineBytes int
	// MaxBytes bounds the (decompressed) input; 0 means no limit.
	MaxBytes int64
	// MaxGzipRatio bounds how much gzip input may expand: past the first
	// 64 MiB, Read refuses input that has decompressed to more than this
	// many times the compressed bytes read. Default 100: real logs
	// compress 3 to 10 times, a decompression bomb about 1,000.
	MaxGzipRatio float64
	// Now is the reference for "in the future"; default time.Now().
	Now time.Time
	// Workers parsing in parallel; default GOMAXPROCS.
	Workers int
	// MaxCells bounds the profile's size (distinct bin × route × origin
	// cells); default 4 million, about 300 MB less than what would break the
	// memory budget, so a long log needs a wider bin.
	MaxCells int

	// general reads every row the general way, with no fast path: the
	// reference the fast paths are tested against.
	general bool
}

// Defaults applied by Read.
const (
	DefaultBinWidth       = time.Minute
	DefaultMaxBadFraction = 0.1
	DefaultMaxLineBytes   = 4 << 20
	DefaultMaxGzipRatio   = 100
	DefaultMaxCells       = 4_000_000
	// maxTokens is the most tokens one request can plausibly carry: ten
	// times the largest context window on sale in 2026.
	maxTokens = 20_000_000
	// maxLatencyMs is a day: no synchronous request lasts longer.
	maxLatencyMs = 24 * 3600 * 1000
	maxRoutes    = 1000
	// maxColumns bounds the columns of a CSV row: real exports have tens,
	// and a row of millions of empty fields would cost a slice entry each.
	maxColumns = 10_000
	maxOrigins = 64
	maxModels  = 10000
	// maxUsers bounds the distinct users counted; past it the summary says
	// "at least".
	maxUsers = 1_000_000
)

// Validate reports every problem with the options, so a caller can refuse
// bad usage before opening a file.
func (o ReadOptions) Validate() error {
	_, err := o.withDefaults()
	return err
}

// withDefaults validates o and fills in defaults.
func (o ReadOptions) withDefaults() (ReadOptions, error) {
	var errs []error
	if err := checkFormat(o.Format); err != nil {
		errs = append(errs, err)
	}
	if o.BinWidth == 0 {
		o.BinWidth = DefaultBinWidth
	}
	if o.BinWidth < time.Second || o.BinWidth > 24*time.Hour || (24*time.Hour)%o.BinWidth != 0 {
		errs = append(errs, fmt.Errorf("bin width %v: want a divisor of a day between 1s and 24h", o.BinWidth))
	}
	if o.MaxBadFraction == 0 {
		o.MaxBadFraction = DefaultMaxBadFraction
	}
	if !(o.MaxBadFraction > 0 && o.MaxBadFraction <= 1) {
		errs = append(errs, fmt.Errorf("max bad fraction %v: want (0, 1]", o.MaxBadFraction))
	}
	if o.MaxLineBytes == 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxLineBytes < 1024 || o.MaxLineBytes > 256<<20 {
		errs = append(errs, fmt.Errorf("max line bytes %d: want 1 KiB to 256 MiB", o.MaxLineBytes))
	}
	if o.MaxBytes < 0 {
		errs = append(errs, errors.New("max bytes must not be negative"))
	}
	if o.MaxGzipRatio == 0 {
		o.MaxGzipRatio = DefaultMaxGzipRatio
	}
	if !(o.MaxGzipRatio >= 1) {
		errs = append(errs, fmt.Errorf("max gzip ratio %v: want 1 or more", o.MaxGzipRatio))
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	o.Workers = min(o.Workers, 64)
	if o.MaxCells == 0 {
		o.MaxCells = DefaultMaxCells
	}
	if o.MaxCells < 0 {
		errs = append(errs, errors.New("max cells must not be negative"))
	}
	if !o.Start.IsZero() && (o.Start.Year() < 2000 || o.Start.After(o.Now.Add(24*time.Hour))) {
		errs = append(errs, fmt.Errorf("start %s: want a time between 2000 and now", o.Start.Format(time.RFC3339)))
	}
	if o.OtherRoute == "" {
		o.OtherRoute = "other"
	}
	if len(o.Routes) > maxRoutes {
		errs = append(errs, fmt.Errorf("%d routes: at most %d", len(o.Routes), maxRoutes))
	}
	seen := map[string]bool{}
	for i, r := range o.Routes {
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("routes[%d]: name is empty", i))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("routes[%d]: name %q repeats", i, r.Name))
		}
		seen[r.Name] = true
	}
	if o.RouteBy > RouteSingle {
		errs = append(errs, fmt.Errorf("unknown route rule %d", o.RouteBy))
	}
	if len(o.OriginMix) > maxOrigins {
		errs = append(errs, fmt.Errorf("%d origins: at most %d", len(o.OriginMix), maxOrigins))
	}
	if len(o.OriginMix) > 0 {
		sum := 0.0
		for k, v := range o.OriginMix {
			if k == "" || !(v >= 0 && v <= 1) || math.IsNaN(v) {
				errs = append(errs, fmt.Errorf("origin %q: share %v, want a name and a share in [0, 1]", k, v))
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-6 {
			errs = append(errs, fmt.Errorf("origin shares add up to %v, want 1", sum))
		}
	}
	return o, errors.Join(errs...)
}

// normalizeModel reduces a model name to what route lists and catalogs
// compare: lower case, a Bedrock model id, profile or ARN read as the
// catalog's name, without a provider prefix ("openai/gpt-4o"), a
// variant (":free") or a release date suffix ("gpt-4o-2024-08-06",
// "claude-sonnet-4-20250514"), and with "4-5" read as "4.5" when a single
// digit follows the dash.
func normalizeModel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if m, ok := bedrockModel(s); ok { // anthropic.claude-…-v1:0, us.…, ARNs (preset_bedrock.go)
		s = m
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, ':'); i > 0 { // OpenRouter variants such as ":free"
		s = s[:i]
	}
	isDigits := func(t string) bool {
		for _, c := range t {
			if c < '0' || c > '9' {
				return false
			}
		}
		return t != ""
	}
	if n := len(s); n > 11 && s[n-11] == '-' && s[n-6] == '-' && s[n-3] == '-' &&
		isDigits(s[n-10:n-6]) && isDigits(s[n-5:n-3]) && isDigits(s[n-2:]) {
		s = s[:n-11]
	} else if n > 9 && s[n-9] == '-' && isDigits(s[n-8:]) {
		s = s[:n-9]
	}
	// Version numbers are written both ways: claude-sonnet-4-5, claude-sonnet-4.5.
	if strings.Contains(s, "-") {
		b := []byte(s)
		for i := 1; i+1 < len(b); i++ {
			if b[i] == '-' && b[i-1] >= '0' && b[i-1] <= '9' && b[i+1] >= '0' && b[i+1] <= '9' &&
				(i+2 == len(b) || b[i+2] < '0' || b[i+2] > '9') {
				b[i] = '.'
			}
		}
		s = string(b)
	}
	return s
}

// NormalizeModel is normalizeModel for callers that build a Known function.
func NormalizeModel(s string) string { return normalizeModel(s) }
