package traffic

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// fastCorpus is every golden input plus generated CSV logs and rows with the
// values a fast path could misread: spaces around values, words for null,
// signs, decimals, exponents, huge counts, latencies in seconds, cents,
// times at the edges of the day and of the bounds.
func fastCorpus(t *testing.T) []goldenCase {
	cases := goldenCorpus(t)
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 200 {
		cases = append(cases, goldenCase{fmt.Sprintf("generated-%d", i), genCSV(rng, 1+rng.IntN(200)), 4})
	}
	values := []string{"", " ", "0", "-0", "+3", "-3", "12.0", "12.5", "1e3", " 7", "7 ", "null", "NULL", "None", "NaN", `\N`,
		"99999999999999999999", "20000001", "019", "\t5", "5\u00a0", "x"}
	times := []string{"2025-06-01T10:00:00Z", "2025-06-01 10:00:00.5", "2025-06-01T10:00:59.999999999+02:00", "2025-06-01T23:59:60Z",
		"1999-12-31T23:59:59Z", "2026-11-26T01:00:00Z", "2026-11-25T23:00:00Z", " 2025-06-01T10:00:00Z", "2025-06-01", "2025-06-01T10:00",
		"1748772000", "1748772000000", "1748772000.5", "null", ""}
	var b strings.Builder
	b.WriteString("timestamp,end,input_tokens,output_tokens,cached_tokens,latency,cost,model,status\n")
	for range 3000 {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", times[rng.IntN(len(times))], times[rng.IntN(len(times))], values[rng.IntN(len(values))], values[rng.IntN(len(values))],
			values[rng.IntN(len(values))], values[rng.IntN(len(values))], values[rng.IntN(len(values))],
			[]string{"gpt-4o", " gpt-4o", "", "null", "claude-sonnet-4-5"}[rng.IntN(5)], []string{"200", "429", "", "error", " 500"}[rng.IntN(5)])
	}
	edge := []byte(b.String())
	// A narrow trace, Azure's shape, read by lineRows: times in and out of
	// the minute before, with zones and fractions of every length, counts
	// that are not plain digits, rows ending in CRLF, with a field missing
	// or one too many, blank lines, and a last row with no line feed.
	b.Reset()
	b.WriteString("TIMESTAMP,ContextTokens,GeneratedTokens\n")
	minutes := []string{"2023-11-16 18:15", "2023-11-16 18:16", "2023-11-16T18:16", "2023-11-16t18:16", "2023-11-16 18:1x"}
	tails := []string{":46.6805900", ":46", ":46.1", ":46.123456789", ":46.1234567891", ":60.5", ":61", ":46,5", ":46.", ":46Z", ":46.5+02:00", ":46 ", ":4", ""}
	for range 3000 {
		if rng.IntN(2) == 0 { // a plain row, in the minute of the one before more often than not
			fmt.Fprintf(&b, "%s:%02d.%d,%d,%d\n", minutes[rng.IntN(2)], rng.IntN(60), rng.IntN(1e7), rng.IntN(5000), rng.IntN(900))
			continue
		}
		fmt.Fprintf(&b, "%s%s,%s,%s", minutes[rng.IntN(len(minutes))], tails[rng.IntN(len(tails))], values[rng.IntN(len(values))], values[rng.IntN(len(values))])
		switch rng.IntN(12) {
		case 0:
			b.WriteString("\r")
		case 1:
			b.WriteString(",extra")
		case 2:
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("2023-11-16 18:16:01.5,1,2")
	cases = append(cases, goldenCase{"narrow", []byte(b.String()), 0}, goldenCase{"narrow", []byte(b.String()), 3})
	for _, spec := range []string{
		"timestamp=timestamp,input_tokens=input_tokens,output_tokens=output_tokens",
		"timestamp=timestamp:iso8601,input_tokens=input_tokens,output_tokens=output_tokens,cached_input_tokens=cached_tokens,latency=latency:s,cost=cost:cents,model=model,status=status",
		"timestamp=timestamp:unix_s,input_tokens=input_tokens,output_tokens=output_tokens,latency=latency,cost=cost",
		"timestamp=timestamp:unix_ms,model=model,route=model,origin=status,user=model",
		"timestamp=timestamp:offset_s,input_tokens=input_tokens",
		"timestamp=timestamp,end_time=end,input_tokens=input_tokens,output_tokens=output_tokens",
		"timestamp=timestamp:iso8601,end_time=end:iso8601,latency=latency,model=model",
		"timestamp=timestamp,input_tokens=input_tokens,failed_requests=output_tokens",
	} {
		cases = append(cases, goldenCase{"edge " + spec, edge, -1})
	}
	return cases
}

// TestFastRowIsRow reads every input of the corpus with the fast path and
// without it and gets the same profile and summary.
func TestFastRowIsRow(t *testing.T) {
	t.Parallel()
	for _, c := range fastCorpus(t) {
		o := goldenOptions(c.sel)
		if c.sel < 0 {
			m, err := ParseMapping(strings.TrimPrefix(c.name, "edge "))
			if err != nil {
				t.Fatal(err)
			}
			o = ReadOptions{Format: "csv", Mapping: m, MaxBadFraction: 1, Now: testNow, Workers: 1,
				Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		}
		p, s, err := Read(context.Background(), bytes.NewReader(c.data), o)
		o.general = true
		gp, gs, gerr := Read(context.Background(), bytes.NewReader(c.data), o)
		if got, want := digest(p, s, err), digest(gp, gs, gerr); got != want {
			t.Errorf("%s:\n fast    %s\n general %s", c.name, got, want)
		}
	}
}

// TestKeyMemoIsLookup reads JSON Lines whose rows change their keys, their
// order and their nesting from row to row (siblings of one length, keys with
// escapes, the same key at several depths) with the key memo and without it,
// and gets the same profile and summary.
func TestKeyMemoIsLookup(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	keys := []string{"ts", "in", "out", "aa", "bb", "x", `i\u006e`, "model"}
	var value func(depth int) string
	value = func(depth int) string {
		switch k := rng.IntN(6); {
		case k == 0 && depth < 3:
			var parts []string
			for range rng.IntN(4) {
				parts = append(parts, fmt.Sprintf("%q:%s", keys[rng.IntN(len(keys))], value(depth+1)))
			}
			return "{" + strings.Join(parts, ",") + "}"
		case k == 1:
			return fmt.Sprint(rng.IntN(900))
		case k == 2:
			return `"2025-06-01T10:0` + fmt.Sprint(rng.IntN(10)) + `:00Z"`
		case k == 3:
			return `"gpt-4o"`
		}
		return fmt.Sprint(1748772000 + rng.IntN(600))
	}
	var b strings.Builder
	for i := range 4000 {
		n := 2 + rng.IntN(5)
		if i%3 == 0 { // a run of rows of the same shape, as exports are
			rng = rand.New(rand.NewPCG(9, uint64(i/30)))
		}
		var parts []string
		for range n {
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(8) == 0 {
				k = strings.ReplaceAll(k, "x", `\u0078`)
			}
			parts = append(parts, `"`+k+`":`+value(0))
		}
		b.WriteString("{" + strings.Join(parts, ",") + "}\n")
	}
	data := []byte(b.String())
	for _, spec := range []string{
		"timestamp=ts,input_tokens=in,output_tokens=out,model=model",
		"timestamp=aa.ts,input_tokens=aa.in,output_tokens=bb.in,model=aa.bb.model",
		"timestamp=ts,input_tokens=bb.aa.in,output_tokens=x,model=bb.model,route=aa.x",
	} {
		m, err := ParseMapping(spec)
		if err != nil {
			t.Fatal(err)
		}
		o := ReadOptions{Format: "jsonl", Mapping: m, MaxBadFraction: 1, Now: testNow, Workers: 1}
		p, s, err := Read(context.Background(), bytes.NewReader(data), o)
		o.general = true
		gp, gs, gerr := Read(context.Background(), bytes.NewReader(data), o)
		if got, want := digest(p, s, err), digest(gp, gs, gerr); got != want || s.RowsUsed == 0 {
			t.Errorf("%s:\n memo    %s\n lookups %s", spec, got, want)
		}
	}
}

// TestShapeIsWalk reads JSON rows that keep the keys of the row before but
// not its values: values of every kind where a count, a time or an unread
// member was (strings with escapes, nulls, literals, objects where the walk
// goes in and where it does not, arrays, numbers JSON refuses, strings that
// never close), and rows whose glue changes by a byte (a space, an escape
// in a key, a key's first letter, a member more or less). The shape walk
// and fastJSON must read them as the general walk and row do, as JSON
// Lines, as a document and as rows wrapped in pages.
func TestShapeIsWalk(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 11))
	times := []string{`"2025-06-01T10:00:00Z"`, `"2025-06-01T10:00:31.25Z"`, `"2025-06-01T10:01:02.5+02:00"`, `"2025-06-01 10:00:07"`,
		`"2025-06-01T10:00:0\u0039Z"`, `1748772000`, `1748772000123`, `1748772000.5`, `"1748772000"`, `null`, `""`, `"x"`, `true`, `{}`, `[]`, `"1999-01-01T00:00:00Z"`, `"2027-01-01T00:00:00Z"`}
	counts := []string{`12`, `0`, `"12"`, `"7"`, `12.0`, `12.5`, `1e3`, `-3`, `-0`, `null`, `""`, `"\u0031"`, `true`, `false`, `{}`, `{"a":1}`, `[1]`,
		`99999999999999999999`, `20000001`, `01`, `1.`, `-`, `tru`, `"x`, `3 `}
	floats := []string{`812`, `812.5`, `0.5`, `"812"`, `-1`, `null`, `1e2`, `1e999`, `"NaN"`, `90000000`, `{}`, `0`}
	other := []string{`"gpt-4o"`, `"claude-sonnet-4-5"`, `"gpt\"4o"`, `"US"`, `"de"`, `200`, `429`, `"500"`, `null`, `{"x":[1,{"y":2}]}`, `[]`, `[1,"a"]`, `true`, `"é"`, `""`}
	type member struct {
		key    string
		values []string
	}
	members := []member{
		{"request_id", other}, {"request_created_at", times}, {"model", other}, {"response_status", other},
		{"prompt_tokens", counts}, {"prompt_cache_read_tokens", counts}, {"completion_tokens", counts},
		{"delay_ms", floats}, {"costUSD", floats}, {"cost", floats}, {"country_code", other},
		{"request_properties", []string{`{"Helicone-Property-Feature":"chat"}`, `{}`, `null`, `"chat"`}},
		{"usage", []string{`{"prompt_tokens":5,"completion_tokens":2}`, `{"prompt_tokens":"5"}`, `{}`, `7`, `{"completion_tokens":{"x":1}}`}},
	}
	invalid := map[string]bool{`01`: true, `1.`: true, `-`: true, `tru`: true, `"x`: true}
	bad := false // the row has a value JSON refuses
	value := func(m member) string {
		if rng.IntN(4) > 0 { // mostly plain values, so that rows go on in their shape
			return m.values[rng.IntN(min(2, len(m.values)))]
		}
		v := m.values[rng.IntN(len(m.values))]
		bad = bad || invalid[v]
		return v
	}
	row := func(order []int, glue int) string {
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range order {
			if i > 0 {
				b.WriteByte(',')
			}
			key := members[k].key
			switch glue {
			case 1:
				b.WriteString(" ")
			case 2:
				if i == 1 {
					key = strings.Replace(key, "_", `\u005f`, 1)
				}
			case 5: // a key of the same length that differs in its first letter
				if i == 1 {
					key = strings.ToUpper(key[:1]) + key[1:]
				}
			}
			fmt.Fprintf(&b, "%q:", key)
			if glue == 3 && i == 2 {
				b.WriteByte(' ')
			}
			b.WriteString(value(members[k]))
		}
		if glue == 4 {
			b.WriteString(` `)
		}
		b.WriteByte('}')
		return b.String()
	}
	var rows, valid []string // valid: the rows a JSON document can hold
	order := rng.Perm(len(members))
	for i := range 6000 {
		if i%40 == 0 { // a new shape now and then: members left out or moved
			order = rng.Perm(len(members))[:6+rng.IntN(len(members)-5)]
		}
		glue := 0
		if rng.IntN(10) == 0 {
			glue = 1 + rng.IntN(5)
		}
		bad = false
		r := row(order, glue)
		rows = append(rows, r)
		if !bad {
			valid = append(valid, r)
		}
	}
	jsonl := []byte(strings.Join(rows, "\n") + "\n")
	doc := []byte("[\n  " + strings.Join(valid, ",\n  ") + "\n]\n")
	var pages strings.Builder
	for i := 0; i < len(valid); i += 50 {
		fmt.Fprintf(&pages, `{"data":[%s]}`+"\n", strings.Join(valid[i:min(i+50, len(valid))], ","))
	}
	inputs := []struct {
		name string
		data []byte
	}{{"jsonl", jsonl}, {"document", doc}, {"pages", []byte(pages.String())}}
	for _, in := range inputs {
		for _, spec := range []string{
			"", // the Helicone preset, detected
			"timestamp=request_created_at,input_tokens=usage.prompt_tokens,output_tokens=usage.completion_tokens,model=model,latency=delay_ms:s,cost=cost:cents",
			"timestamp=request_created_at,input_tokens=prompt_tokens,output_tokens=completion_tokens,origin=country_code,route=request_properties.Helicone-Property-Feature",
		} {
			o := ReadOptions{MaxBadFraction: 1, Now: testNow, Workers: 1}
			if spec != "" {
				m, err := ParseMapping(spec)
				if err != nil {
					t.Fatal(err)
				}
				o.Mapping, o.Format = m, "json"
				if in.name == "jsonl" {
					o.Format = "jsonl"
				}
			}
			p, s, err := Read(context.Background(), bytes.NewReader(in.data), o)
			o.general = true
			gp, gs, gerr := Read(context.Background(), bytes.NewReader(in.data), o)
			if got, want := digest(p, s, err), digest(gp, gs, gerr); got != want || s.RowsUsed < 1000 {
				t.Errorf("%s %q:\n shape   %s\n general %s", in.name, spec, got, want)
			}
		}
	}
}

// FuzzFastIsGeneral reads anything with the fast paths (the shape walk,
// fastJSON, fastRow, lineRows) and with the general reading only, and
// wants the same profile and summary; the seeds are the sample logs and
// runs of rows of one shape, which the fuzzer bends a byte at a time.
func FuzzFastIsGeneral(f *testing.F) {
	seedFiles(f, func(b []byte) {
		f.Add(b, uint8(0))
	})
	f.Add(generateJSONL(20, 3), uint8(0))
	f.Add(generateCSV(20, 3), uint8(0))
	f.Add([]byte(`{"request_id":"az-0-6805900","request_created_at":"2023-11-16T18:15:46.6805900Z","model":"gpt-4o","response_status":200,"prompt_tokens":374,"completion_tokens":44,"country_code":"US"}
{"request_id":"az-0-9951690","request_created_at":"2023-11-16T18:15:50.9951690Z","model":"gpt-4o","response_status":200,"prompt_tokens":396,"completion_tokens":109,"country_code":"US"}
{"request_id":"az-0-2224670","request_created_at":"2023-11-16T18:15:51.2224670Z","model":"gpt-4o","response_status":429,"prompt_tokens":1,"completion_tokens":0,"country_code":"DE"}
`), uint8(0))
	f.Add([]byte("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n2023-11-16 18:16:01.5,1,2\n"), uint8(0))
	formats := []string{"auto", "jsonl", "json", "helicone", "csv"}
	mapping := Mapping{FieldTime: {Column: "request_created_at"}, FieldInput: {Column: "prompt_tokens"}, FieldOutput: {Column: "completion_tokens"},
		FieldModel: {Column: "model"}, FieldStatus: {Column: "response_status"}}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		o := ReadOptions{Format: formats[int(sel)%len(formats)], MaxBadFraction: 1, MaxLineBytes: 4096, Workers: 1, Now: testNow}
		if o.Format == "jsonl" || o.Format == "json" {
			o.Mapping = mapping
		}
		if o.Format == "csv" {
			o.Mapping = Mapping{FieldTime: {Column: "TIMESTAMP"}, FieldInput: {Column: "ContextTokens"}, FieldOutput: {Column: "GeneratedTokens"}}
		}
		p, s, err := Read(context.Background(), bytes.NewReader(data), o)
		o.general = true
		gp, gs, gerr := Read(context.Background(), bytes.NewReader(data), o)
		if got, want := digest(p, s, err), digest(gp, gs, gerr); got != want {
			t.Fatalf("fast    %s\ngeneral %s", got, want)
		}
	})
}
