package traffic

import (
	"fmt"
	"time"
)

// Summary is what the user sees before a simulation: what was read, what was
// left out and why, and the shape of the traffic. Its JSON form is the
// output of `gatewise ingest --json`.
type Summary struct {
	Format      string `json:"format"`       // preset name, or csv/jsonl/json for a plain mapping
	FormatTitle string `json:"format_title"` // what the preset reads
	Container   string `json:"container"`    // csv, jsonl or json
	Gzip        bool   `json:"gzip"`
	Mapping     string `json:"mapping"` // the fields used, in --map syntax
	Bytes       int64  `json:"bytes"`   // read, after decompression

	RowsRead    int64            `json:"rows_read"`
	RowsUsed    int64            `json:"rows_used"`
	RowsSkipped map[string]int64 `json:"rows_skipped"` // by reason
	// Examples are the first few bad rows of each reason, by line.
	Examples []Problem `json:"examples,omitempty"`

	Requests          int64            `json:"requests"`
	InputTokens       int64            `json:"input_tokens"`
	CachedInputTokens int64            `json:"cached_input_tokens"`
	OutputTokens      int64            `json:"output_tokens"`
	Errors            map[string]int64 `json:"errors"` // by class
	CostUSD           float64          `json:"cost_usd"`
	CostRows          int64            `json:"cost_rows"` // rows that reported a cost

	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	RequestsPerDay float64   `json:"requests_per_day"`

	Models        []Count         `json:"models"`
	UnknownModels []string        `json:"unknown_models"` // not in the price catalog
	Routes        []Count         `json:"routes"`
	Origins       []Count         `json:"origins"`
	Latency       *LatencySummary `json:"latency,omitempty"`
	// OutOfOrder counts rows earlier than the row before them. Order does not
	// change the profile; many exports are sorted newest first.
	OutOfOrder int64    `json:"out_of_order_rows"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Count is a name with its request count.
type Count struct {
	Name     string `json:"name"`
	Requests int64  `json:"requests"`
	Known    *bool  `json:"known,omitempty"` // models only: in the price catalog
}

// LatencySummary describes the latencies the log reports, in milliseconds.
// Quantiles come from the histogram, so they are accurate to its ±12%
// buckets; mean and max are exact.
type LatencySummary struct {
	Count  int64   `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Problem is one bad row: its line (1-based; the header is line 1 of a
// CSV), its column (1-based CSV field number, 0 when it has none), the field
// or JSON path involved, and what is wrong.
type Problem struct {
	Reason  string `json:"reason"`
	Line    int64  `json:"line"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	loc := fmt.Sprintf("line %d", p.Line)
	if p.Column > 0 {
		loc += fmt.Sprintf(", column %d", p.Column)
	}
	if p.Field != "" {
		loc += " (" + p.Field + ")"
	}
	return loc + ": " + p.Message
}

// Skip reasons, the keys of Summary.RowsSkipped.
const (
	ReasonUTF8          = "not_utf8"
	ReasonBinary        = "nul_byte"
	ReasonSyntax        = "syntax"
	ReasonFieldCount    = "wrong_field_count"
	ReasonTooLong       = "line_too_long"
	ReasonNoTime        = "missing_timestamp"
	ReasonBadTime       = "bad_timestamp"
	ReasonOldTime       = "timestamp_before_2000"
	ReasonFutureTime    = "timestamp_in_future"
	ReasonBadNumber     = "bad_number"
	ReasonNegative      = "negative_value"
	ReasonAbsurd        = "absurd_value"
	ReasonCachedOverrun = "cached_exceeds_input"
)

// examplesPerReason bounds Summary.Examples.
const examplesPerReason = 3
