package traffic

import (
	"fmt"
	"slices"
	"strings"
)

// Field is one of the facts gatewise keeps from a log row. Everything else in
// a row (prompts, completions, keys) is never read into the profile.
type Field uint8

// The fields a row can supply. Only Time is required; a row without token
// counts still counts as a request.
const (
	FieldTime       Field = iota // when the request started (or its bucket began)
	FieldEnd                     // when it ended: latency for requests, bucket end for aggregates
	FieldModel                   // model name as the log spells it
	FieldInput                   // prompt tokens, cached ones included
	FieldCached                  // prompt tokens read from the provider's cache
	FieldCacheWrite              // prompt tokens written to the cache (Anthropic counts them apart)
	FieldOutput                  // completion tokens, reasoning included
	FieldRequests                // requests in an aggregated row (absent: the row is one request)
	FieldStatus                  // HTTP status code
	FieldSuccess                 // success flag or status word
	FieldError                   // error text, type or code
	FieldLatency                 // total latency
	FieldCost                    // cost the log reports
	FieldRoute                   // metadata value the route rule reads
	FieldOrigin                  // where the request came from
	FieldUser                    // who sent it (counted, never kept)
	FieldFailed                  // failed requests of an aggregated row (LiteLLM's daily failed_requests)
	numFields
)

// fieldNames are the names used in mapping specs and summaries.
var fieldNames = [numFields]string{
	"timestamp", "end_time", "model", "input_tokens", "cached_input_tokens",
	"cache_write_tokens", "output_tokens", "requests", "status", "success",
	"error", "latency", "cost", "route", "origin", "user", "failed_requests",
}

func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return fmt.Sprintf("field(%d)", f)
}

// Unit says how a field's raw value is written.
type Unit uint8

// Units. Time fields take UnitAuto (ISO 8601 text, or an epoch number whose
// magnitude tells seconds from milliseconds, microseconds or nanoseconds),
// one of the explicit epoch units, or an offset from ReadOptions.Start.
// Latency takes seconds or milliseconds, cost USD or US cents.
const (
	UnitDefault  Unit = iota // the field's natural unit: auto for times, ms for latency, USD for cost
	UnitISO                  // ISO 8601 / RFC 3339 text
	UnitUnixS                // seconds since 1970
	UnitUnixMS               // milliseconds since 1970
	UnitUnixUS               // microseconds since 1970
	UnitUnixNS               // nanoseconds since 1970
	UnitOffsetS              // seconds since ReadOptions.Start
	UnitOffsetMS             // milliseconds since ReadOptions.Start
	UnitSeconds              // a duration in seconds
	UnitMillis               // a duration in milliseconds
	UnitUSD                  // US dollars
	UnitCents                // US cents (Portkey's cost)
	numUnits
)

// unitNames are the spellings accepted after ':' in a mapping spec. "s" and
// "ms" mean epoch units on time fields and durations on latency.
var unitNames = map[string]Unit{
	"auto": UnitDefault, "iso8601": UnitISO, "iso": UnitISO, "rfc3339": UnitISO,
	"unix_s": UnitUnixS, "unix_ms": UnitUnixMS, "unix_us": UnitUnixUS, "unix_ns": UnitUnixNS,
	"offset_s": UnitOffsetS, "offset_ms": UnitOffsetMS,
	"s": UnitSeconds, "ms": UnitMillis, "us": UnitUnixUS, "ns": UnitUnixNS,
	"usd": UnitUSD, "cents": UnitCents,
}

var unitLabels = [numUnits]string{"", "iso8601", "unix_s", "unix_ms", "unix_us", "unix_ns",
	"offset_s", "offset_ms", "s", "ms", "usd", "cents"}

func (u Unit) String() string {
	if u < numUnits {
		return unitLabels[u]
	}
	return fmt.Sprintf("unit(%d)", u)
}

// fitUnit checks that u makes sense for f and turns the context-dependent
// spellings ("s", "ms") into the unit that field means.
func fitUnit(f Field, u Unit) (Unit, error) {
	switch f {
	case FieldTime, FieldEnd:
		switch u {
		case UnitSeconds:
			return UnitUnixS, nil
		case UnitMillis:
			return UnitUnixMS, nil
		case UnitDefault, UnitISO, UnitUnixS, UnitUnixMS, UnitUnixUS, UnitUnixNS, UnitOffsetS, UnitOffsetMS:
			return u, nil
		}
	case FieldLatency:
		switch u {
		case UnitDefault, UnitMillis:
			return UnitMillis, nil
		case UnitSeconds:
			return u, nil
		}
	case FieldCost:
		switch u {
		case UnitDefault, UnitUSD:
			return UnitUSD, nil
		case UnitCents:
			return u, nil
		}
	default:
		if u == UnitDefault {
			return u, nil
		}
	}
	return 0, fmt.Errorf("%s cannot be in unit %q", f, u)
}

// Source names where a field comes from: a column (CSV header name, or a
// dotted JSON path such as usage.prompt_tokens_details.cached_tokens), or a
// constant given in the spec as 'text'.
type Source struct {
	Column string
	Const  string // used when IsConst
	Unit   Unit
	// IsConst marks a constant: every row gets Const for this field (the
	// model of a trace that has no model column, for example).
	IsConst bool
}

func (s Source) String() string {
	if s.IsConst {
		return "'" + s.Const + "'"
	}
	if s.Unit != UnitDefault {
		return s.Column + ":" + s.Unit.String()
	}
	return s.Column
}

// Mapping says, per field, where it comes from. It is what --map parses into;
// a mapping given with a preset overrides the preset's choice field by field.
type Mapping map[Field]Source

// String writes the mapping back in spec syntax, fields in a fixed order.
func (m Mapping) String() string {
	var parts []string
	for f := range numFields {
		if s, ok := m[f]; ok {
			parts = append(parts, f.String()+"="+s.String())
		}
	}
	return strings.Join(parts, ",")
}

// ParseMapping reads a spec such as
//
//	timestamp=Timestamp:offset_s, model=Model, input_tokens=Request tokens
//
// Items are separated by commas; each is FIELD=COLUMN, optionally followed
// by :UNIT, or FIELD='constant'. Column names are matched exactly (then
// case-insensitively) and may contain spaces and dots (a dot walks into JSON
// objects), but not commas.
func ParseMapping(spec string) (Mapping, error) {
	m := Mapping{}
	if strings.TrimSpace(spec) == "" {
		return m, nil
	}
	for i, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("mapping item %d %q: want FIELD=COLUMN", i+1, item)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		f, ok := fieldByName(key)
		if !ok {
			return nil, fmt.Errorf("mapping item %d: unknown field %q (fields: %s)", i+1, key, strings.Join(fieldNames[:], ", "))
		}
		if _, dup := m[f]; dup {
			return nil, fmt.Errorf("mapping item %d: %s is mapped twice", i+1, key)
		}
		var src Source
		switch {
		case len(val) >= 2 && val[0] == '\'' && val[len(val)-1] == '\'':
			src = Source{IsConst: true, Const: val[1 : len(val)-1]}
		default:
			src.Column = val
			if j := strings.LastIndexByte(val, ':'); j >= 0 {
				if u, ok := unitNames[strings.ToLower(strings.TrimSpace(val[j+1:]))]; ok {
					src.Column, src.Unit = strings.TrimSpace(val[:j]), u
				}
			}
			if src.Column == "" {
				return nil, fmt.Errorf("mapping item %d: %s has no column", i+1, key)
			}
		}
		u, err := fitUnit(f, src.Unit)
		if err != nil {
			return nil, fmt.Errorf("mapping item %d: %w", i+1, err)
		}
		src.Unit = u
		m[f] = src
	}
	return m, nil
}

// ParseField is the field a mapping names (its aliases included).
func ParseField(name string) (Field, bool) { return fieldByName(name) }

func fieldByName(name string) (Field, bool) {
	name = strings.ToLower(name)
	aliases := map[string]string{"time": "timestamp", "start_time": "timestamp", "cached_tokens": "cached_input_tokens",
		"prompt_tokens": "input_tokens", "completion_tokens": "output_tokens", "status_code": "status",
		"latency_ms": "latency", "cost_usd": "cost", "feature": "route", "region": "origin"}
	if a, ok := aliases[name]; ok {
		name = a
	}
	i := slices.Index(fieldNames[:], name)
	return Field(i), i >= 0
}
