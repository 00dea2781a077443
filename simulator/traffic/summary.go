package traffic

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
	// Fields is the mapping as a table: each field read, from which columns.
	Fields []MappedField `json:"fields"`
	Bytes  int64         `json:"bytes"` // read, after decompression

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

	// Clock says how the timestamps were read: absolute, or counting from
	// zero from a stated (or default) start.
	Clock          Clock     `json:"clock"`
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
	OutOfOrder int64 `json:"out_of_order_rows"`
	// Users counts the distinct values of the user field (hashed, never
	// kept); UsersAtLeast says the count stopped at its bound.
	Users        int64 `json:"users,omitempty"`
	UsersAtLeast bool  `json:"users_at_least,omitempty"`
	// Warnings are what may make the profile misleading (a log too small
	// to tell a daily volume, rows out of order); Notes say what the
	// simulation does with parts of the log (requests on no route, models
	// the catalog does not price).
	Warnings []string `json:"warnings,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

// MappedField is one field of the mapping a log was read with: the columns
// it comes from (the first present in a row wins) in one unit, or a fixed
// value.
type MappedField struct {
	Field   string   `json:"field"`
	Columns []string `json:"columns,omitempty"`
	Unit    string   `json:"unit,omitempty"`
	Const   string   `json:"const,omitempty"`
	IsConst bool     `json:"is_const,omitempty"`
}

// Count is a name with its request count.
type Count struct {
	Name     string `json:"name"`
	Requests int64  `json:"requests"`
	Known    *bool  `json:"known,omitempty"` // models only: in the price catalog
	Route    string `json:"route,omitempty"` // models only, routed by model: the route they went to
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

// What makes a daily volume worth trusting. A count of n requests varies by
// about √n from one period to the next, so 100 requests tell the volume to
// about ±10 %; and a log shorter than a day misses the day's quiet and busy
// hours, yet runs repeat it to fill their horizon as if every hour were
// like the ones it has.
const (
	MinRequestsForVolume = 100
	MinSpanForVolume     = 24 * time.Hour
)

// explain adds the warnings and notes that depend on the whole summary:
// a log too small or too short for its daily volume to mean much, requests
// that fit no route, and models the price catalog does not know.
func (s *Summary) explain(o *ReadOptions, span time.Duration) {
	if s.Requests == 0 {
		return
	}
	perDay := FormatRate(s.RequestsPerDay) + " requests a day"
	if s.Requests < MinRequestsForVolume {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"only %s: a count of n varies by about √n, so %s is uncertain by about ±%.0f %%; at least %d requests (±10 %%) make a daily volume worth trusting",
			Plural(s.Requests, "request"), perDay, 100/math.Sqrt(float64(s.Requests)), MinRequestsForVolume))
	}
	if span > 0 && span < MinSpanForVolume {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"the log covers only %s: runs repeat it to fill their horizon, so %s assumes every hour of the day is like these; a log of at least a day includes the quiet and busy hours",
			DurationWords(span), perDay))
	}
	if len(o.Routes) > 0 {
		var other int64
		for _, r := range s.Routes {
			if r.Name == o.OtherRoute {
				other = r.Requests
			}
		}
		if other > 0 {
			why := "their route value matches no route's name"
			if o.RouteBy == RouteByModel || o.RouteBy == RouteAuto {
				var names []string
				for _, m := range s.Models {
					if m.Route == o.OtherRoute {
						n := m.Name
						if n == "(none)" {
							n = "no model"
						}
						names = append(names, n)
					}
				}
				why = "no route lists their model"
				if len(names) > 0 {
					why += " (" + listShort(names, 5) + ")"
				}
			}
			note := fmt.Sprintf("%s (%s) fit none of the architecture's routes, so the summary counts them as %q: %s",
				Plural(other, "request"), percentOf(other, s.Requests), o.OtherRoute, why)
			if o.OtherServedAs != "" {
				note += fmt.Sprintf("; the simulation serves them as route %q, the architecture's first. Add their models to a route to place them yourself", o.OtherServedAs)
			}
			s.Notes = append(s.Notes, note)
		}
	}
	if len(s.UnknownModels) > 0 {
		var n int64
		for _, m := range s.Models {
			if m.Known != nil && !*m.Known {
				n += m.Requests
			}
		}
		s.Notes = append(s.Notes, fmt.Sprintf(
			"%s not in the price catalog (%s). Their %s still simulated and priced like any other: gatewise prices each request at the models of the route it is served on, and the log's model names only pick the route",
			Plural(int64(len(s.UnknownModels)), "model is", "models are"), listShort(s.UnknownModels, 5),
			Plural(n, "request is", "requests are")))
	}
}

// listShort joins up to n names and says how many more there are.
func listShort(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

// percentOf writes part of whole as a percentage people read: "4.3 %",
// "0.01 %", "100 %".
func percentOf(part, whole int64) string {
	if whole == 0 {
		return "0 %"
	}
	p := 100 * float64(part) / float64(whole)
	switch {
	case p >= 10 || p == math.Trunc(p):
		return strconv.FormatFloat(math.Round(p), 'f', -1, 64) + " %"
	case p >= 1:
		return strconv.FormatFloat(math.Round(p*10)/10, 'f', -1, 64) + " %"
	}
	return strconv.FormatFloat(p, 'g', 1, 64) + " %"
}

// Plural writes a count with its noun: "1 request", "2,400 requests".
// With two forms given, the second is the plural ("1 model is", "3 models
// are"); with one, the plural adds an s.
func Plural(n int64, forms ...string) string {
	one, many := forms[0], forms[0]+"s"
	if len(forms) > 1 {
		many = forms[1]
	}
	if n == 1 {
		return "1 " + one
	}
	return FormatCount(n) + " " + many
}

// FormatCount writes a whole number with thousands separators.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// FormatRate writes a rate to the precision it has: whole numbers from 10
// up ("926", "1,440"), one decimal below ("2.5"), two significant digits
// below 1 ("0.042"). A volume read from a log is not known to more.
func FormatRate(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10 || a == 0:
		return FormatCount(int64(math.Round(v)))
	case a >= 1:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// DurationWords writes a span for people: "45 seconds", "1 minute",
// "10.4 hours", "12 days".
func DurationWords(d time.Duration) string {
	round := func(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }
	switch {
	case d < time.Minute:
		return Plural(int64(math.Round(d.Seconds())), "second")
	case d < time.Hour:
		return Plural(int64(math.Round(d.Minutes())), "minute")
	case d < 48*time.Hour:
		h := round(d.Hours())
		if h == "1" {
			return "1 hour"
		}
		return h + " hours"
	}
	return round(d.Hours()/24) + " days"
}
