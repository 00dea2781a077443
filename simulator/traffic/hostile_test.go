package traffic

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The inputs here are built to hurt: gigabytes that are never held in
// memory, made on the fly by stream. Each must be refused (or its bad rows
// skipped) with a message naming the line, within a bounded amount of
// memory. Tests that measure memory do not run in parallel, so that
// runtime.MemStats sees only their own allocations.

// stream reads its parts in order, each part's bytes n times over, so a
// test can feed Read gigabytes it never holds.
type stream struct {
	parts []part
	n     int64 // bytes read so far
}

type part struct {
	b   []byte
	n   int64
	off int
}

func (s *stream) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && len(s.parts) > 0 {
		pt := &s.parts[0]
		if pt.n <= 0 || len(pt.b) == 0 {
			s.parts = s.parts[1:]
			continue
		}
		c := copy(p, pt.b[pt.off:])
		pt.off += c
		total += c
		p = p[c:]
		if pt.off == len(pt.b) {
			pt.off = 0
			pt.n--
		}
	}
	s.n += int64(total)
	if total == 0 {
		return 0, io.EOF
	}
	return total, nil
}

func once(s string) part { return part{b: []byte(s), n: 1} }

// repeat is s written n times, in blocks of about 64 KiB so a gigabyte
// costs few calls.
func repeat(s string, n int64) part {
	per := max(1, (64<<10)/len(s))
	if n < int64(per) {
		return part{b: []byte(strings.Repeat(s, int(n))), n: 1}
	}
	// The remainder is left out: the tests only need "about n".
	return part{b: []byte(strings.Repeat(s, per)), n: n / int64(per)}
}

func newStream(parts ...part) *stream { return &stream{parts: parts} }

// plainMapping reads the generic CSV and JSONL rows the tests write.
var plainMapping = Mapping{FieldTime: {Column: "timestamp"}, FieldInput: {Column: "input_tokens"}, FieldOutput: {Column: "output_tokens"}}

const (
	csvHeader = "timestamp,input_tokens,output_tokens\n"
	csvRow    = "2025-06-01T12:00:00Z,100,20\n"
	jsonRow   = `{"timestamp":"2025-06-01T12:00:00Z","input_tokens":100,"output_tokens":20}` + "\n"
)

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// readBounded reads r, fails the test unless the error says want (or is
// nil when want is ""), and bounds what the read allocated.
func readBounded(t *testing.T, r io.Reader, o ReadOptions, want string, limit uint64) Summary {
	t.Helper()
	o.Now, o.Workers = testNow, 2
	var sum Summary
	var err error
	alloc := allocated(func() { _, sum, err = Read(context.Background(), r, o) })
	switch {
	case want == "" && err != nil:
		t.Errorf("err = %v, want none", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("err = %v\nwant it to say %q", err, want)
	}
	if s, ok := r.(*stream); ok {
		t.Logf("%s taken from the input, %d MiB allocated: %v", byteSize(s.n), alloc>>20, err)
	}
	if alloc > limit {
		t.Errorf("allocated %d MiB, more than %d", alloc>>20, limit>>20)
	}
	return sum
}

// gzipMember compresses s once; gzip readers read concatenated members as
// one stream, so repeating a member repeats its content.
func gzipMember(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return b.Bytes()
}

// bomb is about 10 MiB of gzip that expands to 10 GiB: a header and a row
// whose last field runs on with ten thousand mebibytes of digits. One
// repeated byte is what compresses best, and skipping it as a long row
// costs little beyond decompressing it, so the test stays quick even under
// the race detector.
type bomb struct{ head, body []byte }

func newBomb(t testing.TB) bomb {
	return bomb{gzipMember(t, csvHeader+csvRow+"2025-06-01T12:00:00Z,1,"), gzipMember(t, strings.Repeat("9", 1<<20))}
}

func (b bomb) stream() *stream {
	return newStream(part{b: b.head, n: 1}, part{b: b.body, n: 10 << 10})
}

// TestGzipBomb reads 10 MiB of gzip that would expand to 10 GiB: Read stops
// once the data has expanded more than MaxGzipRatio times past the first
// 64 MiB, having read little more than that.
func TestGzipBomb(t *testing.T) {
	b := newBomb(t).stream()
	readBounded(t, b, ReadOptions{Format: "csv", Mapping: plainMapping},
		"the gzip data expands more than 100 times", 64<<20)
	if b.n > 1<<20 {
		t.Errorf("took %d bytes of gzip before stopping, want well under a mebibyte", b.n)
	}
}

// TestGzipBoundsAreOptions raises the ratio past what the bomb reaches; the
// decompressed size is then bounded by MaxBytes instead.
func TestGzipBoundsAreOptions(t *testing.T) {
	readBounded(t, newBomb(t).stream(), ReadOptions{Format: "csv", Mapping: plainMapping, MaxGzipRatio: 5000, MaxBytes: 100 << 20},
		"input larger than the limit of 104857600 bytes", 64<<20)
	if err := (ReadOptions{MaxGzipRatio: 0.5}).Validate(); err == nil || !strings.Contains(err.Error(), "max gzip ratio 0.5") {
		t.Errorf("err = %v, want a refusal of ratio 0.5", err)
	}
}

// TestHeaderOfABillionColumns reads a header line of a billion columns
// (2 GB): it is refused as soon as it passes MaxLineBytes, not buffered.
func TestHeaderOfABillionColumns(t *testing.T) {
	readBounded(t, newStream(repeat("c,", 1e9)), ReadOptions{},
		"line 1: the header row is longer than 4194304 bytes (", 64<<20)
}

// TestHeaderOfTooManyColumns reads a header of 1.5 million columns that
// fits in MaxLineBytes: it is refused by its count of columns.
func TestHeaderOfTooManyColumns(t *testing.T) {
	readBounded(t, newStream(repeat("c,", 1_500_000), once("c\n"+csvRow)), ReadOptions{Format: "csv", Mapping: plainMapping},
		"line 1: the header has more than 10000 columns: not a request log", 64<<20)
}

// TestRowOfAMillionColumns skips a row of a million empty fields as a row
// with the wrong count of fields, without a slice entry per field.
func TestRowOfAMillionColumns(t *testing.T) {
	sum := readBounded(t, newStream(once(csvHeader+csvRow), repeat(",", 1e6), once("\n"), repeat(csvRow, 20)),
		ReadOptions{Format: "csv", Mapping: plainMapping}, "", 64<<20)
	want := Problem{Reason: ReasonFieldCount, Line: 3, Message: "more than 10000 fields, the header has 3"}
	if sum.RowsRead != 22 || sum.RowsUsed != 21 || len(sum.Examples) != 1 || sum.Examples[0] != want {
		t.Errorf("read %d used %d, examples %v; want 22, 21, [%v]", sum.RowsRead, sum.RowsUsed, sum.Examples, want)
	}
}

// TestHundredMegabyteLines puts a 100 MB line in each kind of input: a CSV
// or JSONL row is skipped and counted, with its line, and the rows after it
// are read with theirs; a JSON document cannot be read past it and is
// refused. None is held whole.
func TestHundredMegabyteLines(t *testing.T) {
	const big = 100 << 20
	t.Run("CSV row", func(t *testing.T) {
		sum := readBounded(t, newStream(once(csvHeader+csvRow+"2025-06-01T12:00:00Z,1,"), repeat("9", big),
			once("\n2025-06-01T12:00:00Z,-1,1\n"), repeat(csvRow, 20)),
			ReadOptions{Format: "csv", Mapping: plainMapping, MaxBadFraction: 1}, "", 64<<20)
		want := []Problem{{Reason: ReasonTooLong, Line: 3, Message: "row longer than 4194304 bytes; skipped"},
			{Reason: ReasonNegative, Line: 4, Column: 2, Field: "input_tokens", Message: "input_tokens is negative (-1)"}}
		if sum.RowsRead != 23 || sum.RowsUsed != 21 || !slices.Equal(sum.Examples, want) {
			t.Errorf("read %d used %d, examples %v; want 23, 21, %v", sum.RowsRead, sum.RowsUsed, sum.Examples, want)
		}
	})
	t.Run("JSONL row", func(t *testing.T) {
		sum := readBounded(t, newStream(once(jsonRow+`{"timestamp":"2025-06-01T12:00:00Z","prompt":"`), repeat("x", big),
			once("\"}\n"+`{"timestamp":"2025-06-01T12:00:00Z","input_tokens":-1}`+"\n"), repeat(jsonRow, 20)),
			ReadOptions{Format: "jsonl", Mapping: plainMapping, MaxBadFraction: 1}, "", 64<<20)
		want := []Problem{{Reason: ReasonTooLong, Line: 2, Message: "row longer than 4194304 bytes; skipped"},
			{Reason: ReasonNegative, Line: 3, Field: "input_tokens", Message: "input_tokens is negative (-1)"}}
		if sum.RowsRead != 23 || sum.RowsUsed != 21 || !slices.Equal(sum.Examples, want) {
			t.Errorf("read %d used %d, examples %v; want 23, 21, %v", sum.RowsRead, sum.RowsUsed, sum.Examples, want)
		}
	})
	t.Run("JSON document", func(t *testing.T) {
		readBounded(t, newStream(once("[\n"+strings.TrimSpace(jsonRow)+",\n"+`{"prompt":"`), repeat("x", big), once("\"}]\n")),
			ReadOptions{Format: "json", Mapping: plainMapping}, "line 3: a JSON value longer than 4194304 bytes", 64<<20)
	})
	t.Run("CSV header", func(t *testing.T) {
		readBounded(t, newStream(repeat("x", big), once("\n"+csvRow)), ReadOptions{},
			"line 1: the header row is longer than 4194304 bytes: not a request log", 64<<20)
	})
}

// TestDeeplyNestedJSON nests 100,000 arrays or objects: a JSONL row is
// skipped at the depth bound, a JSON document is refused there.
func TestDeeplyNestedJSON(t *testing.T) {
	t.Parallel()
	deepArrays := `{"timestamp":"2025-06-01T12:00:00Z","x":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "}\n"
	deepObjects := `{"timestamp":"2025-06-01T12:00:00Z","x":` + strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000) + "}\n"
	tests := []struct {
		name  string
		input string
		opts  ReadOptions
		want  Problem // a skipped row, when err is ""
		err   string
	}{
		{name: "JSONL arrays", input: jsonRow + deepArrays + strings.Repeat(jsonRow, 20), opts: ReadOptions{Format: "jsonl", Mapping: plainMapping},
			want: Problem{Reason: ReasonSyntax, Line: 2, Message: "invalid JSON at character 554: nested too deep"}},
		{name: "JSONL objects", input: jsonRow + deepObjects + strings.Repeat(jsonRow, 20), opts: ReadOptions{Format: "jsonl", Mapping: plainMapping},
			want: Problem{Reason: ReasonSyntax, Line: 2, Message: "invalid JSON at character 2602: nested too deep"}},
		{name: "JSON document", input: "[\n" + strings.TrimSpace(jsonRow) + ",\n" + deepArrays + "]", opts: ReadOptions{Format: "json", Mapping: plainMapping},
			err: "line 3: the JSON document is malformed: nested too deep"},
		{name: "JSON document of arrays", input: strings.Repeat("[", 100_000), opts: ReadOptions{Mapping: plainMapping},
			err: "line 1: the array's elements must be objects (rows), found '['"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Now = testNow
			_, sum, err := Read(context.Background(), strings.NewReader(tc.input), tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want it to say %q", err, tc.err)
				}
				return
			}
			if err != nil || sum.RowsRead != 22 || sum.RowsUsed != 21 || len(sum.Examples) != 1 || sum.Examples[0] != tc.want {
				t.Errorf("err %v, read %d used %d, examples %v; want 22, 21, [%v]", err, sum.RowsRead, sum.RowsUsed, sum.Examples, tc.want)
			}
		})
	}
}

// TestNotText puts a NUL byte or a byte that is not UTF-8 at the start of a
// log, which refuses the file, and past the first 64 KiB that detection
// looks at, which skips the row; either way the message names the line and
// the character.
func TestNotText(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat(csvRow, 3000) // 84 KB: past the sniff window
	padJSON := strings.Repeat(jsonRow, 1000)
	tests := []struct {
		name  string
		input string
		opts  ReadOptions
		want  Problem
		err   string
	}{
		{name: "NUL at the start", input: csvHeader + "2025-\x0006-01T12:00:00Z,1,1\n", err: "line 2: the file is binary, not text (a NUL byte at character 6)"},
		// A PNG's first byte is not UTF-8, but its NULs make it binary.
		{name: "PNG image", input: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", err: "line 3: the file is binary, not text (a NUL byte at character 1)"},
		{name: "latin-1 at the start", input: csvHeader + "2025-06-01T12:00:00Z,1,1\ncaf\xe9,1,1\n", err: "line 3: the file is not UTF-8 text (byte 0xe9 at character 4)"},
		{name: "NUL in a CSV row", input: csvHeader + pad + "2025-06-01T12:00:00Z,1\x00,1\n" + csvRow,
			want: Problem{Reason: ReasonBinary, Line: 3002, Message: "a NUL byte at character 23: binary data, not text"}},
		{name: "latin-1 in a CSV row", input: csvHeader + pad + "2025-06-01T12:00:00Z,1,1\xe9\n" + csvRow,
			want: Problem{Reason: ReasonUTF8, Line: 3002, Message: "not valid UTF-8 text: byte 0xe9 at character 25"}},
		{name: "NUL in a JSONL string", input: padJSON + `{"timestamp":"2025-06-01T12:00:00Z","prompt":"a` + "\x00" + `b"}` + "\n" + jsonRow,
			want: Problem{Reason: ReasonBinary, Line: 1001, Message: "a NUL byte at character 48: binary data, not text"}},
		{name: "latin-1 in a JSONL string", input: padJSON + `{"timestamp":"2025-06-01T12:00:00Z","prompt":"` + "caf\xe9" + `"}` + "\n" + jsonRow,
			want: Problem{Reason: ReasonUTF8, Line: 1001, Message: "not valid UTF-8 text: byte 0xe9 at character 50"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := ReadOptions{Mapping: plainMapping, MaxBadFraction: 1, Now: testNow}
			if strings.HasPrefix(tc.input, "{") {
				o.Format = "jsonl"
			} else {
				o.Format = "csv"
			}
			_, sum, err := Read(context.Background(), strings.NewReader(tc.input), o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want it to say %q", err, tc.err)
				}
				return
			}
			if err != nil || sum.RowsUsed != sum.RowsRead-1 || len(sum.Examples) != 1 || sum.Examples[0] != tc.want {
				t.Errorf("err %v, read %d used %d, examples %v; want one row skipped, %v", err, sum.RowsRead, sum.RowsUsed, sum.Examples, tc.want)
			}
		})
	}
}

// BenchmarkHostile reads the hostile inputs above; with -benchmem, B/op is
// what each costs, which stays far below the input's size.
func BenchmarkHostile(b *testing.B) {
	bm := newBomb(b)
	cases := []struct {
		name string
		in   func() io.Reader
		opts ReadOptions
	}{
		{"gzip bomb 10GiB", func() io.Reader { return bm.stream() }, ReadOptions{Format: "csv", Mapping: plainMapping}},
		{"header of 1e9 columns", func() io.Reader { return newStream(repeat("c,", 1e9)) }, ReadOptions{}},
		{"CSV row of 100MB", func() io.Reader {
			return newStream(once(csvHeader+csvRow+"2025-06-01T12:00:00Z,1,"), repeat("9", 100<<20), once("\n"), repeat(csvRow, 20))
		}, ReadOptions{Format: "csv", Mapping: plainMapping, MaxBadFraction: 1}},
	}
	for _, c := range cases {
		b.Run(strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
			c.opts.Now = testNow
			b.ReportAllocs()
			for b.Loop() {
				Read(context.Background(), c.in(), c.opts)
			}
		})
	}
}
