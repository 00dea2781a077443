package traffic

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// azureRows writes n rows of the Azure trace's shape, a second apart from
// the given second of 2023-11-16.
func azureRows(b *bytes.Buffer, n, from int) {
	for i := range n {
		s := from + i
		fmt.Fprintf(b, "2023-11-16 %02d:%02d:%02d.6805900,%d,%d\n", 10+s/3600%12, s/60%60, s%60, 100+i%50, 10+i%7)
	}
}

// unclosedQuote is the file of the report: 1,000 good rows, one whose
// second field opens a quote that never closes, then 3,000 good rows. The
// rows after the quote used to vanish: "1001 read, 1000 used, 1 skipped".
func unclosedQuote(before, after int) []byte {
	var b bytes.Buffer
	b.WriteString("TIMESTAMP,ContextTokens,GeneratedTokens\n")
	azureRows(&b, before, 0)
	b.WriteString("2023-11-16 12:00:00.0000000,\"374,44\n")
	azureRows(&b, after, before+1)
	return b.Bytes()
}

func TestUnclosedQuoteRefused(t *testing.T) {
	t.Parallel()
	const want = `line 1002, column 2 (ContextTokens): a quoted field opens here and never closes`
	small := unclosedQuote(1000, 3000)
	// Past two chunks, so the quote is read by a later chunk and worker.
	large := unclosedQuote(60_000, 3000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(small)
	zw.Close()
	tests := []struct {
		name string
		data []byte
		opts ReadOptions
		want string
	}{
		{"small", small, ReadOptions{}, want},
		{"small, two workers", small, ReadOptions{Workers: 2}, want},
		{"small, every row allowed to be bad", small, ReadOptions{MaxBadFraction: 1}, want},
		{"gzip", gz.Bytes(), ReadOptions{}, want},
		{"large", large, ReadOptions{Workers: 2}, "line 60002, column 2 (ContextTokens): a quoted field opens here and never closes"},
		{"small, short rows", small, ReadOptions{MaxLineBytes: 1024}, want},
		// The quote holds more than a row may before the file ends: refused
		// there, at the same place.
		{"past the row bound", unclosedQuote(1000, 60_000), ReadOptions{MaxLineBytes: 1024},
			"line 1002, column 2 (ContextTokens): a quoted field opens here and runs on past the 1.0 KiB a row may hold: is a closing quote missing?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Now = testNow
			_, sum, err := Read(context.Background(), bytes.NewReader(tc.data), tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v\nwant %s\n(%d read, %d used, skipped %v)", err, tc.want, sum.RowsRead, sum.RowsUsed, sum.RowsSkipped)
			}
		})
	}
}

// TestUnclosedQuoteInALongRow: a quote that opens in a row already too
// long to keep, and never closes, refuses the file at that row.
func TestUnclosedQuoteInALongRow(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("TIMESTAMP,ContextTokens,GeneratedTokens\n")
	azureRows(&b, 10, 0)
	b.WriteString("2023-11-16 12:00:00.0000000,1,")
	b.Write(bytes.Repeat([]byte("x"), 3<<20/2))
	b.WriteString(",\"never closed\n")
	azureRows(&b, 10, 20)
	data := b.Bytes()
	_, _, err := Read(context.Background(), bytes.NewReader(data), ReadOptions{MaxLineBytes: 1024, Now: testNow})
	const want = "line 12: a row longer than 1.0 KiB holds a quoted field that never closes"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	checkRowsCounted(t, data, ReadOptions{MaxLineBytes: 1024, Now: testNow})
}

// TestQuotedNewlinesAreOneRow: a quoted field may hold newlines (prompt
// text in an export); its row is one row however many lines it spans, and
// the rows after it keep their own line numbers.
func TestQuotedNewlinesAreOneRow(t *testing.T) {
	t.Parallel()
	data := "timestamp,input_tokens,output_tokens,prompt\n" +
		"2025-06-01T10:00:00Z,10,1,\"first line\nsecond, with a comma\n\"\"quoted\"\"\"\n" +
		"2025-06-01T10:00:01Z,20,2,plain\n" +
		"2025-06-01T10:00:02Z,-3,3,\"a\r\nb\"\n" +
		"2025-06-01T10:00:03Z,40,4,\"\"\n"
	m, _ := ParseMapping("timestamp=timestamp,input_tokens=input_tokens,output_tokens=output_tokens")
	_, sum, err := Read(context.Background(), strings.NewReader(data), ReadOptions{Format: "csv", Mapping: m, MaxBadFraction: 1, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RowsRead != 4 || sum.RowsUsed != 3 || sum.RowsSkipped[ReasonNegative] != 1 || sum.InputTokens != 70 {
		t.Errorf("read %d used %d skipped %v, %d input tokens; want 4, 3, one negative, 70", sum.RowsRead, sum.RowsUsed, sum.RowsSkipped, sum.InputTokens)
	}
	if len(sum.Examples) != 1 || sum.Examples[0].Line != 6 {
		t.Errorf("examples %v, want the negative count on line 6", sum.Examples)
	}
}

// TestStrayQuoteNamesTheLinesItJoins: a quote that opens in one row and
// closes in another makes the lines between one row; when that row is bad,
// its problem says which lines it took, so none go uncounted.
func TestStrayQuoteNamesTheLinesItJoins(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("TIMESTAMP,ContextTokens,GeneratedTokens\n")
	azureRows(&b, 1000, 0)
	b.WriteString("2023-11-16 12:00:00.0000000,\"374,44\n") // line 1002
	azureRows(&b, 3000, 1001)
	b.WriteString("2023-11-16 13:00:00.0000000,374\",44\n") // line 4003
	azureRows(&b, 1000, 4002)
	_, sum, err := Read(context.Background(), &b, ReadOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RowsRead != 2001 || sum.RowsUsed != 2000 || sum.RowsSkipped[ReasonBadNumber] != 1 {
		t.Fatalf("read %d used %d skipped %v, want 2001, 2000 and one bad number", sum.RowsRead, sum.RowsUsed, sum.RowsSkipped)
	}
	if len(sum.Examples) != 1 {
		t.Fatalf("examples %v", sum.Examples)
	}
	got := sum.Examples[0].String()
	if !strings.HasPrefix(got, "line 1002, column 2 (ContextTokens): input_tokens ") || !strings.HasSuffix(got, "; quotes make lines 1002 to 4003 one row") {
		t.Errorf("example %s", got)
	}
}

// csvRecords is the reference for what a row of a CSV file is, written
// here byte by byte apart from the reader's own scanner. A row ends at a
// line feed outside quotes. A quote opens a quoted field only as the first
// character of a field (at the start of a row or after a comma); inside one,
// two quotes are a quote and one quote closes it, and whatever follows the
// closing quote up to the next comma or row end belongs to the same field
// (a malformed row, but one row). So a line feed inside quotes is part of
// its row, and a row spans as many lines as its quoted fields hold. A blank
// line (nothing, or only a carriage return, before its line feed) is no row.
// The header is the first row.
//
// When a quoted field is still open at the end of the file, open is true
// and line and column (1-based: physical line, field number) say where its
// quote is. opens lists every quote that opened a field, as line:column.
type csvRecords struct {
	rows         int
	open         bool
	line, column int
	opens        map[[2]int]bool
}

func countCSVRecords(data []byte) csvRecords {
	r := csvRecords{opens: map[[2]int]bool{}}
	line, field := 1, 1
	inQuotes := false
	rowStart, rowEmpty := true, true // at the first byte of a row; the row so far has nothing but a CR
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inQuotes {
			if c == '\n' {
				line++
			}
			if c == '"' {
				if i+1 < len(data) && data[i+1] == '"' {
					i++
					continue
				}
				inQuotes = false
			}
			continue
		}
		switch c {
		case '\n':
			if !rowEmpty {
				r.rows++
			}
			line++
			field, rowStart, rowEmpty = 1, true, true
			continue
		case ',':
			field++
			rowStart, rowEmpty = false, false
			// The next character starts a field: a quote there opens one.
			if i+1 < len(data) && data[i+1] == '"' {
				i++
				inQuotes, rowEmpty = true, false
				r.opens[[2]int{line, field}] = true
				r.line, r.column = line, field
			}
			continue
		case '"':
			if rowStart {
				inQuotes, rowEmpty = true, false
				r.opens[[2]int{line, field}] = true
				r.line, r.column = line, field
				rowStart = false
				continue
			}
		case '\r':
			rowStart = false
			continue // a CR alone keeps a row blank
		}
		rowStart, rowEmpty = false, false
	}
	if inQuotes {
		r.open = true
		return r
	}
	if !rowEmpty {
		r.rows++
	}
	return r
}

// TestCountCSVRecords checks the reference on rows worked out by hand.
func TestCountCSVRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		data string
		rows int
		open bool
	}{
		{"a,b\n1,2\n", 2, false},
		{"a,b\n1,2", 2, false},
		{"a,b\n\n\r\n1,2\n", 2, false},
		{"a,b\n1,\"x\ny\"\n3,4\n", 3, false},
		{"a,b\n1,\"x\"\"\ny\"\n", 2, false},
		{"a,b\n1,x\"y\n3,4\n", 3, false}, // a quote inside a field opens nothing
		{"a,b\n1,\"x\n3,4\n", 1, true},
		{"a,b\n1,\"x\"y,\"z\n3,4\n", 1, true},
		{"a,b\n\"", 1, true},
		{"a,b\n1,\"\"\n", 2, false},
	}
	for _, tc := range tests {
		if got := countCSVRecords([]byte(tc.data)); got.rows != tc.rows || got.open != tc.open {
			t.Errorf("%q: %d rows, open %v; want %d, %v", tc.data, got.rows, got.open, tc.rows, tc.open)
		}
	}
	if got := countCSVRecords([]byte("a,b\n1,2\n3,\"x\n")); got.line != 3 || got.column != 2 {
		t.Errorf("open quote at %d:%d, want 3:2", got.line, got.column)
	}
}

// quoteRefusal matches the two ways Read refuses a quote: one that never
// closes, and one whose row runs on past the bound on a row. longRefusal is
// a quote that opens in a row already skipped as too long and never closes.
var (
	quoteRefusal = regexp.MustCompile(`^line (\d+), column (\d+)(?: \([^)]*\))?: a quoted field opens here and (never closes|runs on past)`)
	longRefusal  = regexp.MustCompile(`^line (\d+): a row longer than [^:]* holds a quoted field that never closes$`)
)

// checkRowsCounted is the property: Read either refuses the file naming the
// line and column of a quote that opens a field (and, when it says the
// quote never closes, the reference agrees), or every row of the file is
// counted, used or skipped.
func checkRowsCounted(t *testing.T, data []byte, o ReadOptions) {
	t.Helper()
	ref := countCSVRecords(data)
	_, sum, err := Read(context.Background(), bytes.NewReader(data), o)
	if err != nil {
		if m := quoteRefusal.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			if !ref.opens[[2]int{line, col}] {
				t.Fatalf("%q: %v, but no quote opens a field at line %d, column %d", clipTest(data), err, line, col)
			}
			if m[3] == "never closes" && (!ref.open || ref.line != line || ref.column != col) {
				t.Fatalf("%q: %v; the reference says open %v at %d:%d", clipTest(data), err, ref.open, ref.line, ref.column)
			}
			return
		}
		if m := longRefusal.FindStringSubmatch(err.Error()); m != nil {
			if line, _ := strconv.Atoi(m[1]); !ref.open || line > ref.line {
				t.Fatalf("%q: %v; the reference says open %v at %d:%d", clipTest(data), err, ref.open, ref.line, ref.column)
			}
			return
		}
	}
	if ref.open {
		t.Fatalf("%q: a quote opens at line %d, column %d and never closes, but Read said %v (%d read, %d used)",
			clipTest(data), ref.line, ref.column, err, sum.RowsRead, sum.RowsUsed)
	}
	if sum.RowsSkipped == nil {
		t.Fatalf("%q: no counts: %v", clipTest(data), err)
	}
	var skipped int64
	for _, n := range sum.RowsSkipped {
		skipped += n
	}
	if want := int64(ref.rows - 1); sum.RowsRead != want || sum.RowsUsed+skipped != want {
		t.Fatalf("%q: %d rows after the header, but %d read, %d used + %d skipped (%v; %v)",
			clipTest(data), want, sum.RowsRead, sum.RowsUsed, skipped, sum.RowsSkipped, err)
	}
}

func clipTest(b []byte) string {
	if len(b) > 300 {
		return string(b[:150]) + " … " + string(b[len(b)-150:])
	}
	return string(b)
}

// genCSV writes a CSV log of rows rows: mostly good ones, with quoted fields
// holding commas, doubled quotes, newlines and CRLFs, and some faults: quotes
// inside fields, text after a closing quote, a quote that opens and does not
// close on its line, fields missing or extra, blank lines, CRLF row ends.
func genCSV(rng *rand.Rand, rows int) []byte {
	var b bytes.Buffer
	b.WriteString("timestamp,input_tokens,output_tokens,note\n")
	quoted := []string{`"a, b"`, `"say ""hi"""`, "\"two\nlines\"", "\"crlf\r\ninside\"", `""`, "\"\n\n\"", `"x"`}
	for i := range rows {
		fields := []string{fmt.Sprintf("2025-06-01T10:%02d:%02dZ", i/60%60, i%60), strconv.Itoa(rng.IntN(5000)), strconv.Itoa(rng.IntN(900)), "plain"}
		switch k := rng.IntN(40); {
		case k < 6:
			fields[3] = quoted[rng.IntN(len(quoted))]
		case k == 6:
			fields[1] = `1"2` // a quote inside a field
		case k == 7:
			fields[3] = `"closed"then` // text after the closing quote
		case k == 8:
			fields[rng.IntN(4)] = `"opens` // closes at some later quote, or never
		case k == 9:
			fields = fields[:3]
		case k == 10:
			fields = append(fields, "extra")
		case k == 11:
			b.WriteString("\n")
		case k == 12:
			fields[2] = "-5"
		case k == 13:
			fields[0] = `"` + fields[0] + `"`
		}
		b.WriteString(strings.Join(fields, ","))
		if rng.IntN(10) == 0 {
			b.WriteString("\r")
		}
		if i < rows-1 || rng.IntN(2) == 0 {
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// pieces hands its data over in pieces of random sizes, as a network
// upload would.
type pieces struct {
	data []byte
	rng  *rand.Rand
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(b), len(p.data), 1+p.rng.IntN(9000))
	copy(b, p.data[:n])
	p.data = p.data[n:]
	return n, nil
}

// TestEveryRowCounted is the property on 1,500 generated files: refused at
// a quote, or every row used or skipped. Files are read whole and in random
// pieces, by one worker and two, with the default bound on a row and a
// small one; a few are large enough for several chunks.
func TestEveryRowCounted(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2026, 12))
	m, _ := ParseMapping("timestamp=timestamp,input_tokens=input_tokens,output_tokens=output_tokens")
	for i := range 1500 {
		rows := 1 + rng.IntN(60)
		if i%100 == 0 {
			rows = 40_000 // about 1.6 MB: two chunks
		}
		data := genCSV(rng, rows)
		o := ReadOptions{Format: "csv", Mapping: m, MaxBadFraction: 1, Now: testNow, Workers: 1 + i%2}
		if i%3 == 0 {
			o.MaxLineBytes = 1024
		}
		checkRowsCounted(t, data, o)
		if i%5 == 0 {
			ref := countCSVRecords(data)
			_, s1, e1 := Read(context.Background(), &pieces{data: data, rng: rng}, o)
			_, s2, e2 := Read(context.Background(), bytes.NewReader(data), o)
			if fmt.Sprint(e1) != fmt.Sprint(e2) || s1.RowsRead != s2.RowsRead || s1.RowsUsed != s2.RowsUsed {
				t.Fatalf("file %d (%d rows, open %v): in pieces %d read, %d used, %v; whole %d, %d, %v",
					i, ref.rows, ref.open, s1.RowsRead, s1.RowsUsed, e1, s2.RowsRead, s2.RowsUsed, e2)
			}
		}
	}
}

// FuzzEveryRowCounted runs the property on any rows after a header.
func FuzzEveryRowCounted(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		f.Add(genCSV(rng, 1+rng.IntN(12)), uint8(0))
	}
	f.Add([]byte("2025-06-01T10:00:00Z,1,\"2\n2025-06-01T10:00:01Z,1,2\n"), uint8(1))
	m, _ := ParseMapping("timestamp=timestamp,input_tokens=input_tokens,output_tokens=output_tokens")
	f.Fuzz(func(t *testing.T, rows []byte, sel uint8) {
		if bytes.IndexByte(rows, 0) >= 0 || !utf8.Valid(rows) {
			return // refused as binary or not UTF-8, whatever its quotes
		}
		data := append([]byte("timestamp,input_tokens,output_tokens,note\n"), rows...)
		o := ReadOptions{Format: "csv", Mapping: m, MaxBadFraction: 1, Now: testNow, Workers: 1 + int(sel%2)}
		if sel&2 != 0 {
			o.MaxLineBytes = 1024
		}
		checkRowsCounted(t, data, o)
	})
}
