package traffic

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// seedFiles adds every testdata sample to a fuzz corpus.
func seedFiles(f *testing.F, add func([]byte)) {
	files, _ := filepath.Glob("testdata/*.*")
	logs, _ := filepath.Glob("testdata/logs/*.*")
	files = append(files, logs...)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			add(b)
		}
	}
}

// FuzzCSVSplit checks the hand-written splitter against encoding/csv: the
// same records until the first error, an error on the same record, and
// chunk boundaries (csvBounds, fed in uneven pieces) only at record ends.
// Carriage returns are left out: both readers fold CRLF but differ on a
// lone CR, which no export writes.
func FuzzCSVSplit(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", `a,"b""c",d` + "\n", "\"x\ny\",z\n", `a"b,c`, `"a"b,c`, "\n\n,\n", `""`} {
		f.Add([]byte(s), uint8(3))
	}
	seedFiles(f, func(b []byte) {
		if bytes.IndexByte(b, '\r') < 0 {
			f.Add(b, uint8(7))
		}
	})
	f.Fuzz(func(t *testing.T, data []byte, piece uint8) {
		if bytes.IndexByte(data, '\r') >= 0 {
			return
		}
		ref := csv.NewReader(bytes.NewReader(data))
		ref.FieldsPerRecord = -1
		var sp csvSplitter
		var ends []int
		rest, off := data, 0
		for i := 0; ; i++ {
			want, refErr := ref.Read()
			for len(rest) > 0 && rest[0] == '\n' {
				rest, off = rest[1:], off+1
			}
			if errors.Is(refErr, io.EOF) {
				if len(rest) != 0 {
					t.Fatalf("record %d: encoding/csv ended, %q left", i, rest)
				}
				break
			}
			if len(rest) == 0 {
				t.Fatalf("record %d: input ended, encoding/csv read %q, %v", i, want, refErr)
			}
			n, _, err, _ := sp.split(rest)
			if errors.Is(err, errTooManyFields) {
				return // encoding/csv has no bound on fields
			}
			if refErr != nil || err != nil {
				if (refErr == nil) != (err == nil) {
					t.Fatalf("record %d of %q: encoding/csv %v, splitter %v", i, data, refErr, err)
				}
				return
			}
			got := make([]string, len(sp.fields))
			for j, f := range sp.fields {
				got[j] = string(f)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("record %d of %q: got %q, want %q", i, data, got, want)
			}
			rest, off = rest[n:], off+n
			if off > 0 && data[off-1] == '\n' {
				ends = append(ends, off)
			}
		}
		// Every boundary csvBounds reports, first or last, must be a record
		// end, and no record may end in a piece before its first boundary.
		step := int(piece%16) + 1
		var b csvBounds
		for i := 0; i < len(data); i += step {
			j := min(i+step, len(data))
			first, last := b.scan(data[i:j])
			if (first < 0) != (last < 0) || first > last {
				t.Fatalf("%q: boundaries %d and %d in [%d, %d)", data, first, last, i, j)
			}
			for _, e := range []int{first, last} {
				if at := i + e; e >= 0 && !slices.Contains(ends, at) && !onlyNewlinesBefore(data, at) {
					t.Fatalf("%q: boundary at %d is not a record end (ends %v)", data, at, ends)
				}
			}
			for _, at := range ends {
				if first < 0 && at > i && at <= j && !onlyNewlinesBefore(data, at) {
					t.Fatalf("%q: record end %d in [%d, %d) not reported", data, at, i, j)
				}
				if first >= 0 && at > i && at < i+first && !onlyNewlinesBefore(data, at) {
					t.Fatalf("%q: record end %d before the first boundary %d", data, at, i+first)
				}
			}
		}
	})
}

// onlyNewlinesBefore allows boundaries inside the blank lines that
// encoding/csv skips.
func onlyNewlinesBefore(data []byte, at int) bool {
	i := at - 1
	for i >= 0 && data[i] == '\n' {
		i--
	}
	return i < 0 || i < at-1
}

// FuzzJSONScan checks the scanner against encoding/json: valid objects are
// accepted with the same top-level values; anything accepted is valid JSON
// but for the string contents the scanner does not check.
func FuzzJSONScan(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x","c":{"d":[1,2,{"e":null}]}}`, `{"a":"\"q\\"}`, `{"a":1e5,"b":-0.5,"c":true}`, `{}`, `{"a":[}`, `{"a":01}`} {
		f.Add([]byte(s))
	}
	seedFiles(f, func(b []byte) {
		for _, line := range bytes.Split(b, []byte{'\n'}) {
			f.Add(line)
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // rows are checked for UTF-8 before they are scanned
		}
		var s jscan
		got := map[string]jvalue{}
		err := walkJSON(&s, data, func(path []byte, v jvalue) bool {
			if bytes.IndexByte(path, '.') < 0 && v.kind != jObject {
				got[string(path)] = v
			}
			return false
		})
		var ref map[string]any
		refErr := json.Unmarshal(data, &ref)
		if refErr == nil && ref != nil && err != nil {
			t.Fatalf("%q: encoding/json accepts, scanner says %v", data, err)
		}
		// json.Valid: encoding/json refuses numbers past float64 (1e700) that
		// JSON's grammar allows.
		if err == nil && refErr != nil && !lenientOnly(data) && !json.Valid(data) {
			t.Fatalf("%q: scanner accepts, encoding/json says %v", data, refErr)
		}
		if err != nil || refErr != nil {
			return
		}
		for k, v := range got {
			r, ok := ref[k]
			if !ok {
				continue // a key with escapes; looked up decoded
			}
			switch x := r.(type) {
			case string:
				if s, _ := jsonString(v); s != x {
					t.Fatalf("%q: key %q: %q, want %q", data, k, s, x)
				}
			case float64:
				if f, ok := parseFloat(v.raw); !ok || f != x {
					t.Fatalf("%q: key %q: %v, want %v", data, k, f, x)
				}
			}
		}
	})
}

// lenientOnly reports inputs whose only fault may be inside strings: escapes
// or control characters, or invalid UTF-8.
func lenientOnly(data []byte) bool {
	for _, c := range data {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return true
		}
	}
	return false
}

// FuzzRead feeds anything to Read in every container and a few presets: it
// must never panic, and whatever it returns must add up.
func FuzzRead(f *testing.F) {
	seedFiles(f, func(b []byte) {
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
	})
	formats := []string{"auto", "csv", "jsonl", "json", "helicone", "litellm-spendlogs", "openai-usage", "burstgpt", "otel-genai", "langfuse", "litellm-daily"}
	mapping := Mapping{FieldTime: {Column: "timestamp"}, FieldInput: {Column: "input_tokens"}, FieldOutput: {Column: "output_tokens"}}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		o := ReadOptions{Format: formats[int(sel)%len(formats)], MaxBadFraction: 1, MaxLineBytes: 4096, Workers: 2,
			Now: testNow, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		if sel&8 != 0 || o.Format == "csv" || o.Format == "jsonl" || o.Format == "json" {
			o.Mapping = mapping
		}
		p, s, err := Read(context.Background(), bytes.NewReader(data), o)
		var skipped int64
		for _, n := range s.RowsSkipped {
			skipped += n
		}
		if s.RowsUsed > s.RowsRead || (s.RowsSkipped != nil && skipped != s.RowsRead-s.RowsUsed) {
			t.Fatalf("read %d used %d skipped %v", s.RowsRead, s.RowsUsed, s.RowsSkipped)
		}
		// A bad row's line is a line of the file.
		if lines := int64(bytes.Count(data, []byte{'\n'})) + 1; !s.Gzip {
			for _, p := range s.Examples {
				if p.Line < 1 || p.Line > lines {
					t.Fatalf("%v: the input has %d lines", p, lines)
				}
			}
		}
		if err != nil {
			return
		}
		var d Demand
		for _, c := range p.Cells {
			d.add(&c.Demand)
		}
		if d != p.Total || d.Requests != s.Requests || d.Input != s.InputTokens {
			t.Fatalf("cells %+v, total %+v, summary %d requests", d, p.Total, s.Requests)
		}
	})
}

// FuzzValues checks the fast number and time parsers against strconv and
// time.Parse: whatever both accept must agree.
func FuzzValues(f *testing.F) {
	for _, s := range []string{"12", "-0.5", "1e3", "0.1", "123456789012345678", "2025-01-01T00:00:00Z", "2023-11-16 18:15:46.6805900",
		"2025-03-03 10:00:01.120+00", "2024-02-29T23:59:59.999999999-07:00", "2023-02-29"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := parseFloat([]byte(s)); ok {
			want, err := strconv.ParseFloat(s, 64)
			if err != nil || got != want {
				t.Fatalf("parseFloat(%q) = %v, strconv says %v, %v", s, got, want, err)
			}
		}
		if n, ok := parseCount([]byte(s)); ok {
			if want, err := strconv.ParseInt(s, 10, 64); err == nil && n != want {
				t.Fatalf("parseCount(%q) = %d, want %d", s, n, want)
			}
		}
		// time.Parse also takes one-digit hours; exports write two.
		// Nor does it check a zone's minutes (+00:60).
		fixed := len(s) >= 20 && s[13] == ':' && s[16] == ':' && !(s[len(s)-3] == ':' && s[len(s)-2] > '5')
		if want, err := time.Parse(time.RFC3339Nano, s); err == nil && fixed && want.Year() > 1700 && want.Year() < 2250 {
			got, ok := parseISO([]byte(s))
			if !ok || got != want.UnixNano() {
				t.Fatalf("parseISO(%q) = %d, %v; want %d", s, got, ok, want.UnixNano())
			}
		}
	})
}

// FuzzParseMapping checks the --map parser: any spec it accepts is written
// back by Mapping.String into a spec that parses to the same mapping.
func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{
		"timestamp=Timestamp:offset_s, model=Model, input_tokens=Request tokens",
		"time=ts:ms,latency=took:s,cost=c:cents,model='gpt-4o',output_tokens=usage.completion_tokens",
		"route=metadata.tags,origin=region,status=code,success=ok,error=err.type,requests=n",
		"end_time=a:b:unix_ns, cached_tokens=' x ', feature=''",
		"timestamp=,x", "model=a=b", "model='", "latency=x:usd", "timestamp=a,timestamp=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := ParseMapping(spec)
		if err != nil {
			if m != nil {
				t.Fatalf("%q: a mapping came back with the error %v", spec, err)
			}
			return
		}
		back, err := ParseMapping(m.String())
		if err != nil {
			t.Fatalf("%q: written back as %q, which fails: %v", spec, m.String(), err)
		}
		if !maps.Equal(back, m) {
			t.Fatalf("%q: written back as %q, which parses to %v, not %v", spec, m.String(), back, m)
		}
	})
}

// FuzzISOCache checks that reading timestamps through the cache gives what
// parseISO gives, whatever came before.
func FuzzISOCache(f *testing.F) {
	f.Add("2023-11-16 18:15:46.6805900", "2023-11-16 18:15:50.9951690")
	f.Add("2025-03-03T10:00:01.120+00", "2025-03-03T10:00:59Z")
	f.Add("2024-02-29T23:59:59-07:00", "2024-02-29T23:59")
	f.Add("2024-02-29", "2024-02-29T23:5x")
	f.Fuzz(func(t *testing.T, a, b string) {
		var c isoCache
		for _, s := range []string{a, b, a, b[:len(b)/2], b} {
			want, wok := parseISO([]byte(s))
			got, ok := c.parse([]byte(s))
			if got != want || ok != wok {
				t.Fatalf("after %q: cache reads %q as %d, %v; parseISO %d, %v", a, s, got, ok, want, wok)
			}
		}
	})
}

// FuzzSplitPlain checks the word-at-a-time splitter against split on data
// without quotes: the same fields, bytes consumed, line feeds and errors.
func FuzzSplitPlain(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "2023-11-16 18:15:46.6805900,374,44\r\n", ",,\n", "x", "\r", "a\r,b\r", strings.Repeat(",", 10_005) + "\nz"} {
		f.Add([]byte(s))
	}
	seedFiles(f, func(b []byte) { f.Add(bytes.ReplaceAll(b, []byte{'"'}, nil)) })
	f.Fuzz(func(t *testing.T, data []byte) {
		data = bytes.ReplaceAll(data, []byte{'"'}, []byte{'x'})
		var a, b csvSplitter
		for len(data) > 0 {
			n1, l1, e1, f1 := a.split(data)
			n2, l2, e2, f2 := b.splitPlain(data)
			if n1 != n2 || l1 != l2 || e1 != e2 || f1 != f2 || len(a.fields) != len(b.fields) {
				t.Fatalf("%q: split %d %d %v %d %d fields; splitPlain %d %d %v %d %d fields", data, n1, l1, e1, f1, len(a.fields), n2, l2, e2, f2, len(b.fields))
			}
			for i := range a.fields {
				if !bytes.Equal(a.fields[i], b.fields[i]) {
					t.Fatalf("%q: field %d: %q, splitPlain %q", data, i, a.fields[i], b.fields[i])
				}
			}
			data = data[n1:]
		}
	})
}

// FuzzTimeAt checks lineValues' reading of a time in a cached minute against
// parseISO: whatever timeAt accepts, up to the end of its field, parseISO
// reads as the same time.
func FuzzTimeAt(f *testing.F) {
	for _, s := range []string{":46.6805900,374", ":46\n", ":60.123456789,", ":46.1234567890,", ":46.,", ":46Z,", ":6", ":46.5\r\n"} {
		f.Add("2023-11-16 18:15", s)
	}
	f.Fuzz(func(t *testing.T, minute, tail string) {
		var w worker
		if _, ok := w.iso[0].parse([]byte(minute + ":00")); !ok {
			return
		}
		data := []byte(minute + tail)
		ts, end, ok := w.timeAt(data, 0)
		if !ok {
			return
		}
		if end < len(data) && data[end] != ',' && data[end] != '\n' && data[end] != '\r' {
			t.Fatalf("%q: the field ends at %d, on %q", data, end, data[end])
		}
		want, wok := parseISO(data[:end])
		if !wok || want != ts {
			t.Fatalf("%q: timeAt %d, parseISO %d, %v", data[:end], ts, want, wok)
		}
	})
}

// FuzzDigitsAt checks the word-at-a-time count reader against the loop.
func FuzzDigitsAt(f *testing.F) {
	for _, s := range []string{"374,44\n", "0", "12345678,", "123456789012345678901", ",", "9x", "00000042\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for p := range data {
			n1, e1 := digitsAt(data, p)
			n2, e2 := digitsLoop(data, p)
			if n1 != n2 || e1 != e2 {
				t.Fatalf("%q at %d: digitsAt %d, %d; loop %d, %d", data, p, n1, e1, n2, e2)
			}
		}
	})
}
