package traffic

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// TestMergeArithmetic merges two small profiles whose bins, routes and
// origins partly coincide, and checks every cell.
func TestMergeArithmetic(t *testing.T) {
	t.Parallel()
	var hist Histogram
	hist[25] = 2
	a := &Profile{BinWidth: time.Minute, Start: t0, Bins: 3, Routes: []string{"chat", "other"}, Origins: []string{"us", "eu"},
		Cells: []Cell{
			{Bin: 0, Route: 0, Origin: 0, Demand: Demand{Requests: 2, Input: 100, CachedInput: 10, Output: 20, Errors: [NumErrorClasses]int64{1, 0, 0, 0}}, LatencyMs: 300, Latencies: 2},
			{Bin: 1, Route: 0, Origin: 1, Demand: Demand{Requests: 5, Input: 500, Output: 50}},
			{Bin: 2, Route: 1, Origin: 1, Demand: Demand{Requests: 1, Input: 50, Output: 5}},
		},
		Latency: []Histogram{hist, {}, {}, {}},
	}
	a.Total = Demand{Requests: 8, Input: 650, CachedInput: 10, Output: 75, Errors: [NumErrorClasses]int64{1, 0, 0, 0}}
	// b starts a minute later, names its routes in another order, has
	// only eu, and no latencies.
	b := &Profile{BinWidth: time.Minute, Start: t0.Add(time.Minute), Bins: 3, Routes: []string{"summarize", "chat"}, Origins: []string{"eu"},
		Cells: []Cell{
			{Bin: 0, Route: 1, Origin: 0, Demand: Demand{Requests: 3, Input: 30, Output: 3, Errors: [NumErrorClasses]int64{0, 2, 0, 0}}},
			{Bin: 2, Route: 0, Origin: 0, Demand: Demand{Requests: 4, Input: 400, CachedInput: 40, Output: 8, Errors: [NumErrorClasses]int64{0, 0, 1, 1}}},
		},
	}
	m, err := Merge(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Start.Equal(t0) || m.Bins != 4 || m.BinWidth != time.Minute {
		t.Fatalf("start %v bins %d width %v, want %v 4 1m", m.Start, m.Bins, m.BinWidth, t0)
	}
	if got := strings.Join(m.Routes, ","); got != "chat,other,summarize" {
		t.Errorf("routes %s", got)
	}
	if got := strings.Join(m.Origins, ","); got != "us,eu" {
		t.Errorf("origins %s", got)
	}
	want := []Cell{
		{Bin: 0, Route: 0, Origin: 0, Demand: Demand{Requests: 2, Input: 100, CachedInput: 10, Output: 20, Errors: [NumErrorClasses]int64{1, 0, 0, 0}}, LatencyMs: 300, Latencies: 2},
		// a's 5 and b's 3 requests on chat from eu at 10:01
		{Bin: 1, Route: 0, Origin: 1, Demand: Demand{Requests: 8, Input: 530, Output: 53, Errors: [NumErrorClasses]int64{0, 2, 0, 0}}},
		{Bin: 2, Route: 1, Origin: 1, Demand: Demand{Requests: 1, Input: 50, Output: 5}},
		{Bin: 3, Route: 2, Origin: 1, Demand: Demand{Requests: 4, Input: 400, CachedInput: 40, Output: 8, Errors: [NumErrorClasses]int64{0, 0, 1, 1}}},
	}
	if len(m.Cells) != len(want) {
		t.Fatalf("%d cells, want %d: %+v", len(m.Cells), len(want), m.Cells)
	}
	for i := range want {
		if m.Cells[i] != want[i] {
			t.Errorf("cell %d = %+v, want %+v", i, m.Cells[i], want[i])
		}
	}
	wantTotal := Demand{Requests: 15, Input: 1080, CachedInput: 50, Output: 86, Errors: [NumErrorClasses]int64{1, 2, 1, 1}}
	if m.Total != wantTotal {
		t.Errorf("total %+v, want %+v", m.Total, wantTotal)
	}
	if len(m.Latency) != 3*2 || m.Latency[0][25] != 2 || m.Latency[0].Count() != 2 {
		t.Errorf("latency histograms %d, chat/us count %d", len(m.Latency), m.Latency[0].Count())
	}
	for i := 1; i < len(m.Latency); i++ {
		if m.Latency[i].Count() != 0 {
			t.Errorf("histogram %d holds %d", i, m.Latency[i].Count())
		}
	}
	if got := m.RequestsPerDay(); got != 15.0/4*1440 {
		t.Errorf("requests a day %v", got)
	}
	// The prefix sums see the merged demand.
	x := m.Prefix()
	if d := x.Range(0, 1, 0, 4); d.Requests != 8 || d.Input != 530 {
		t.Errorf("chat/eu over the span: %+v", d)
	}

	if _, err := Merge(a, &Profile{BinWidth: 5 * time.Minute}); err == nil || !strings.Contains(err.Error(), "different bins") {
		t.Errorf("different bins: %v", err)
	}
	if _, err := Merge(nil); err == nil {
		t.Error("nothing to merge: no error")
	}
	off := *b
	off.Start = t0.Add(30 * time.Second)
	if _, err := Merge(a, &off); err == nil || !strings.Contains(err.Error(), "not on a 1m0s bin") {
		t.Errorf("start off the bins: %v", err)
	}
}

func TestWithinAndWithout(t *testing.T) {
	t.Parallel()
	p := &Profile{BinWidth: time.Minute, Start: t0, Bins: 5, Routes: []string{"chat"}, Origins: []string{"any"}}
	for b := range 5 {
		p.Cells = append(p.Cells, Cell{Bin: int32(b), Demand: Demand{Requests: int64(b + 1), Input: int64(10 * (b + 1))}})
		p.Total.add(&p.Cells[b].Demand)
	}
	// 10:01:30 to 10:03:00 touches bins 1, 2 and 3: 2+3+4 requests.
	from, to := t0.Add(90*time.Second), t0.Add(3*time.Minute)
	if d := p.Within(from, to); d.Requests != 9 || d.Input != 90 {
		t.Errorf("within: %+v", d)
	}
	q, dropped := p.Without(from, to)
	if dropped.Requests != 9 || q.Total.Requests != 6 || len(q.Cells) != 2 || q.Bins != 5 || !q.Start.Equal(t0) {
		t.Errorf("without: dropped %+v, left %+v", dropped, q)
	}
	if len(p.Cells) != 5 || p.Total.Requests != 15 {
		t.Error("Without changed its profile")
	}
	// Dropping the start moves it.
	q, _ = p.Without(t0.Add(-time.Hour), t0.Add(time.Minute))
	if !q.Start.Equal(t0.Add(2*time.Minute)) || q.Bins != 3 || q.Cells[0].Bin != 0 || q.Total.Requests != 12 {
		t.Errorf("without the first two bins: start %v bins %d cells %+v", q.Start, q.Bins, q.Cells)
	}
	q, dropped = p.Without(t0.Add(-time.Hour), t0.Add(time.Hour))
	if len(q.Cells) != 0 || q.Bins != 0 || dropped.Requests != 15 {
		t.Errorf("without everything: %+v", q)
	}
	if d := p.Within(t0.Add(time.Hour), t0.Add(2*time.Hour)); d.Requests != 0 {
		t.Errorf("within a span after the profile: %+v", d)
	}
}

// spendLogs writes a LiteLLM SpendLogs export: n requests, one a minute
// from at, ids id(i), i counted from first, prompt tokens 100+i.
func spendLogs(at time.Time, first, n int, id func(int) string) string {
	var b strings.Builder
	b.WriteString("request_id,call_type,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,messages,status\n")
	for k := range n {
		i := first + k
		ts := at.Add(time.Duration(k) * time.Minute)
		fmt.Fprintf(&b, "%s,acompletion,0.001,%d,%d,10,%s,%s,gpt-4o,gpt-4o,\"prompt text,\nover two lines %d\",success\n",
			id(i), 110+i, 100+i, ts.Format("2006-01-02 15:04:05.000+00"), ts.Add(2*time.Second).Format("2006-01-02 15:04:05.000+00"), i)
	}
	return b.String()
}

func reqID(i int) string { return fmt.Sprintf("req-%04d", i) }

func readString(t *testing.T, data string, o ReadOptions) (*Profile, Summary) {
	t.Helper()
	o.Now = testNow
	p, s, err := Read(context.Background(), strings.NewReader(data), o)
	if err != nil {
		t.Fatalf("read: %v (summary %+v)", err, s)
	}
	return p, s
}

// logFile reads data as one file of a combination, checked against the
// files before it, as gatewise does when a file is added.
func logFile(t *testing.T, name, data string, o ReadOptions, before []LogFile) LogFile {
	t.Helper()
	o.Now = testNow
	var sets []*IDSet
	for _, f := range before {
		sets = append(sets, f.IDs)
	}
	scan, err := ScanIDs(context.Background(), strings.NewReader(data), o, "", sets, MaxIDs)
	if err != nil {
		t.Fatalf("%s: scan ids: %v", name, err)
	}
	read := data
	if scan.DuplicateRows > 0 {
		var buf bytes.Buffer
		if err := scan.Filter(context.Background(), strings.NewReader(data), &buf); err != nil {
			t.Fatalf("%s: filter: %v", name, err)
		}
		read = buf.String()
	}
	p, s := readString(t, read, o)
	CountDuplicates(&s, scan.DuplicateRows)
	return LogFile{Name: name, SHA256: name, Profile: p, Summary: s, IDs: scan.IDs, IDColumn: scan.Column, NoIDs: scan.NoIDs,
		IDPartial: scan.Partial, Repeats: scan.Repeats, Duplicates: scan.Duplicates}
}

// TestDuplicatesByIDAcrossFiles adds a second SpendLogs export that repeats
// the last hour of the first: its 60 repeated requests are found by id,
// skipped before reading, and the rest of it keeps its line numbers.
func TestDuplicatesByIDAcrossFiles(t *testing.T) {
	t.Parallel()
	o := ReadOptions{}
	a := logFile(t, "spend-0302.csv", spendLogs(t0, 0, 120, reqID), o, nil)
	if a.IDColumn != "request_id" || a.IDs.Len() != 120 || a.Summary.Requests != 120 {
		t.Fatalf("first file: ids from %q, %d ids, %d requests", a.IDColumn, a.IDs.Len(), a.Summary.Requests)
	}
	// The second file: requests 60 to 179, and a bad row at the end.
	second := spendLogs(t0.Add(time.Hour), 60, 120, reqID) +
		"req-9999,acompletion,0.001,5,5,0,not a time,,gpt-4o,gpt-4o,x,success\n"
	b := logFile(t, "spend-0302-later.csv", second, o, []LogFile{a})
	if b.Duplicates[0] != 60 || b.IDs.Len() != 61 {
		t.Errorf("second file: %v duplicates, %d ids of its own, want [60] and 61", b.Duplicates, b.IDs.Len())
	}
	s := b.Summary
	if s.RowsRead != 121 || s.RowsUsed != 60 || s.RowsSkipped[ReasonDuplicate] != 60 || s.RowsSkipped[ReasonBadTime] != 1 || s.Requests != 60 {
		t.Errorf("second file: read %d used %d skipped %v requests %d", s.RowsRead, s.RowsUsed, s.RowsSkipped, s.Requests)
	}
	// Each row takes two lines (a quoted field holds a line feed): the bad
	// row is line 1 + 2*120 + 1 of the file as uploaded.
	if len(s.Examples) != 1 || s.Examples[0].Line != 242 {
		t.Errorf("the bad row's line: %+v", s.Examples)
	}
	if !s.Start.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("second file starts %v once its repeats are skipped", s.Start)
	}

	p, c, err := Combine([]LogFile{a, b}, o)
	if err != nil {
		t.Fatal(err)
	}
	// 180 distinct requests, prompt tokens 100+i for i in 0..179.
	if p.Total.Requests != 180 || p.Total.Input != 180*100+179*180/2 || p.Total.Output != 1800 {
		t.Errorf("combined total %+v", p.Total)
	}
	if c.Requests != 180 || c.RowsRead != 241 || c.RowsUsed != 180 || c.RowsSkipped[ReasonDuplicate] != 60 {
		t.Errorf("combined summary: %d requests, %d read, %d used, skipped %v", c.Requests, c.RowsRead, c.RowsUsed, c.RowsSkipped)
	}
	if !c.Start.Equal(t0) || !c.End.Equal(t0.Add(179*time.Minute)) || p.Bins != 180 {
		t.Errorf("combined span %v to %v, %d bins", c.Start, c.End, p.Bins)
	}
	if len(c.Files) != 2 || c.Files[1].DuplicateRows != 60 || c.Files[1].IDColumn != "request_id" {
		t.Errorf("files: %+v", c.Files)
	}
	var texts []string
	for _, f := range c.Findings {
		texts = append(texts, f.Text)
	}
	want := "spend-0302-later.csv repeats 60 request ids of spend-0302.csv (request_id): those rows were skipped, so each request counts once."
	if len(c.Findings) != 1 || c.Findings[0].Text != want || c.Findings[0].Duplicates != 60 {
		t.Errorf("findings:\n%s\nwant\n%s", strings.Join(texts, "\n"), want)
	}
}

// TestDuplicatesByIDInJSON finds repeated ids in JSON Lines (a row per
// line, and a page of rows) and in a JSON array, gzip-compressed.
func TestDuplicatesByIDInJSON(t *testing.T) {
	t.Parallel()
	row := func(i int) string {
		ts := t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		return fmt.Sprintf(`{"request_id":"%s","request_created_at":"%s","model":"gpt-4o","prompt_tokens":%d,"completion_tokens":5,"delay_ms":300}`, reqID(i), ts, 100+i)
	}
	var first strings.Builder
	for i := range 40 {
		first.WriteString(row(i) + "\n")
	}
	a := logFile(t, "helicone-a.jsonl", first.String(), ReadOptions{}, nil)
	if a.Summary.Format != "helicone" || a.IDColumn != "request_id" || a.IDs.Len() != 40 {
		t.Fatalf("first: format %s ids %q %d", a.Summary.Format, a.IDColumn, a.IDs.Len())
	}

	// JSON Lines: rows 30 to 49, then a page holding rows 20 to 24 and 50.
	var lines strings.Builder
	for i := 30; i < 50; i++ {
		lines.WriteString(row(i) + "\n")
	}
	lines.WriteString(`{"data":[` + row(20) + "," + row(21) + "," + row(22) + "," + row(23) + "," + row(24) + "," + row(50) + `]}` + "\n")
	b := logFile(t, "helicone-b.jsonl", lines.String(), ReadOptions{}, []LogFile{a})
	if b.Duplicates[0] != 15 || b.Summary.Requests != 11 || b.Summary.RowsRead != 26 {
		t.Errorf("JSON Lines: %v duplicates, %d requests, %d rows read; want 15, 11, 26", b.Duplicates, b.Summary.Requests, b.Summary.RowsRead)
	}

	// A pretty-printed JSON array, gzip-compressed: rows 35 to 44.
	var doc strings.Builder
	doc.WriteString("[\n")
	for i := 35; i < 45; i++ {
		if i > 35 {
			doc.WriteString(",\n")
		}
		doc.WriteString("  " + strings.Replace(row(i), `,"model"`, ",\n   \"model\"", 1))
	}
	doc.WriteString("\n]\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(doc.String()))
	zw.Close()
	scan, err := ScanIDs(context.Background(), bytes.NewReader(gz.Bytes()), ReadOptions{Now: testNow}, "", []*IDSet{a.IDs}, MaxIDs)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Rows != 10 || scan.DuplicateRows != 5 || scan.IDs.Len() != 5 {
		t.Errorf("JSON array: %d rows, %d duplicates, %d own ids", scan.Rows, scan.DuplicateRows, scan.IDs.Len())
	}
	var out bytes.Buffer
	if err := scan.Filter(context.Background(), bytes.NewReader(gz.Bytes()), &out); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(out.String(), "\n"), strings.Count(doc.String(), "\n"); got != want {
		t.Errorf("the filtered array has %d lines, the file %d:\n%s", got, want, out.String())
	}
	_, s := readString(t, out.String(), ReadOptions{})
	if s.Requests != 5 || s.Container != "json" || !s.Start.Equal(t0.Add(40*time.Minute)) {
		t.Errorf("filtered array: %d requests, %s, from %v", s.Requests, s.Container, s.Start)
	}
}

// TestOverlapWithoutIDs combines a log that has no request ids with one
// that overlaps it: the overlap is reported with its hours and both files'
// requests in it; kept by default, dropped when chosen.
func TestOverlapWithoutIDs(t *testing.T) {
	t.Parallel()
	o := ReadOptions{}
	a := logFile(t, "spend.csv", spendLogs(t0, 0, 120, reqID), o, nil) // 10:00 to 11:59
	var plain strings.Builder
	plain.WriteString("when,engine,in,out\n")
	for i := range 120 { // 11:30 to 13:29
		fmt.Fprintf(&plain, "%s,gpt-4o,50,5\n", t0.Add(90*time.Minute+time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	m, err := ParseMapping("timestamp=when,model=engine,input_tokens=in,output_tokens=out")
	if err != nil {
		t.Fatal(err)
	}
	po := ReadOptions{Format: "csv", Mapping: m}
	b := logFile(t, "other.csv", plain.String(), po, []LogFile{a})
	if b.IDColumn != "" || !strings.Contains(b.NoIDs, "no column of request ids") {
		t.Fatalf("plain file: ids %q, %q", b.IDColumn, b.NoIDs)
	}

	p, c, err := Combine([]LogFile{a, b}, o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total.Requests != 240 {
		t.Errorf("kept: %d requests, want 240", p.Total.Requests)
	}
	if len(c.Findings) != 1 {
		t.Fatalf("findings: %+v", c.Findings)
	}
	f := c.Findings[0]
	// 11:30 to 11:59: 29 minutes, 30 requests of each.
	if f.Kind != FindingOverlap || f.Hours != 0.48 || f.Requests != 30 || f.OtherRequests != 30 || f.Action != "kept" || !f.Choice {
		t.Errorf("overlap: %+v", f)
	}
	want := "other.csv overlaps spend.csv for 29 minutes (other.csv has 30 requests in that time, spend.csv 30). Without request ids in both files (other.csv has none) gatewise cannot tell repeated requests from different ones, so both were kept: right for different deployments or routes, or SpendLogs beside ErrorLogs. If other.csv logs spend.csv's requests again, drop its overlap."
	if f.Text != want {
		t.Errorf("text:\n%s\nwant\n%s", f.Text, want)
	}
	if c.Files[1].Overlap != OverlapKeep || c.Files[0].Overlap != "" {
		t.Errorf("choices: %q %q", c.Files[0].Overlap, c.Files[1].Overlap)
	}

	// The same export again, read without its ids: the same traffic
	// minute by minute, which the finding says.
	again := logFile(t, "spend-again.csv", spendLogs(t0, 0, 120, reqID), ReadOptions{}, nil)
	again.IDColumn, again.IDs, again.NoIDs = "", nil, noIDsOff
	_, c2, err := Combine([]LogFile{a, again}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(c2.Findings) != 1 || !strings.Contains(c2.Findings[0].Text, "With the check by request id turned off for spend-again.csv, gatewise cannot tell") ||
		!strings.HasSuffix(c2.Findings[0].Text, "In that time its traffic is spend.csv's minute by minute, requests and tokens: most likely the same requests logged twice.") {
		t.Errorf("the same export again: %+v", c2.Findings)
	}
	if strings.Contains(f.Text, "minute by minute") {
		t.Errorf("different traffic said to be the same: %s", f.Text)
	}

	b.Overlap = OverlapDrop
	p, c, err = Combine([]LogFile{a, b}, o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total.Requests != 210 || c.Requests != 210 || c.Files[1].DroppedRequests != 30 || c.Files[1].Requests != 120 {
		t.Errorf("dropped: %d requests (summary %d), file %+v", p.Total.Requests, c.Requests, c.Files[1])
	}
	if f := c.Findings[0]; f.Action != "dropped" || f.Text != "other.csv overlaps spend.csv for 29 minutes: its 30 requests in that time were dropped, as chosen; spend.csv's 30 stand for them." {
		t.Errorf("dropped: %+v", f)
	}
	// Input tokens: spend.csv's 100..219, other.csv's 90 kept rows of 50.
	if p.Total.Input != 120*100+119*120/2+90*50 {
		t.Errorf("dropped: input %d", p.Total.Input)
	}
}

// TestSpendLogsAndErrorLogs combines a LiteLLM deployment's SpendLogs with
// its ErrorLogs (failed requests, read through a mapping): other request
// ids in the same hours, so both are kept and the failures count.
func TestSpendLogsAndErrorLogs(t *testing.T) {
	t.Parallel()
	o := ReadOptions{}
	spend := logFile(t, "spend.csv", spendLogs(t0, 0, 120, reqID), o, nil)
	var errs strings.Builder
	errs.WriteString("request_id,startTime,endTime,api_base,model_group,litellm_model_name,model_id,request_kwargs,exception_type,exception_string,status_code\n")
	for i := range 20 {
		ts := t0.Add(3*time.Minute + time.Duration(6*i)*time.Minute)
		status, kind := 429, "RateLimitError"
		if i%4 == 3 {
			status, kind = 500, "InternalServerError"
		}
		fmt.Fprintf(&errs, "err-%d,%s,%s,https://api.openai.com,gpt-4o,gpt-4o,m1,{},%s,\"upstream said no, %d\",%d\n",
			i, ts.Format("2006-01-02 15:04:05+00"), ts.Add(time.Second).Format("2006-01-02 15:04:05+00"), kind, i, status)
	}
	m, err := ParseMapping("timestamp=startTime,end_time=endTime,model=model_group,status=status_code,error=exception_type")
	if err != nil {
		t.Fatal(err)
	}
	el := logFile(t, "errors.csv", errs.String(), ReadOptions{Format: "csv", Mapping: m}, []LogFile{spend})
	if el.IDColumn != "request_id" || el.Duplicates[0] != 0 || el.Summary.Requests != 20 {
		t.Fatalf("errors: ids %q, %v duplicates, %d requests", el.IDColumn, el.Duplicates, el.Summary.Requests)
	}
	p, c, err := Combine([]LogFile{spend, el}, o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total.Requests != 140 || p.Total.Errors[ErrRateLimit] != 15 || p.Total.Errors[ErrServer] != 5 || c.Errors["rate_limit_429"] != 15 {
		t.Errorf("combined: %+v", p.Total)
	}
	// errors.csv spans 10:03 to 11:57.
	want := "errors.csv overlaps spend.csv for 1.9 hours (errors.csv has 20 requests in that time, spend.csv 115); their request ids differ, so they are different requests: both kept."
	if len(c.Findings) != 1 || c.Findings[0].Text != want || c.Findings[0].Choice {
		t.Errorf("findings: %+v\nwant %s", c.Findings, want)
	}
	if c.Format != "litellm-spendlogs + csv" || c.Files[1].Format != "csv" {
		t.Errorf("formats %q, %q", c.Format, c.Files[1].Format)
	}
	if c.Latency == nil || c.Latency.Count != 140 {
		t.Errorf("latency: %+v", c.Latency)
	}
}

func TestGapsAndClocks(t *testing.T) {
	t.Parallel()
	o := ReadOptions{}
	day1 := logFile(t, "0302.csv", spendLogs(t0, 0, 60, reqID), o, nil)
	day2 := logFile(t, "0304.csv", spendLogs(t0.Add(48*time.Hour), 60, 60, reqID), o, []LogFile{day1})
	_, c, err := Combine([]LogFile{day1, day2}, o)
	if err != nil {
		t.Fatal(err)
	}
	want := "No file covers the 47 hours between 0302.csv and 0304.csv: a run replays that time as quiet, and the daily volume counts it."
	if len(c.Findings) != 1 || c.Findings[0].Kind != FindingGap || c.Findings[0].Text != want || c.Findings[0].Hours != 47.02 {
		t.Errorf("findings: %+v", c.Findings)
	}
}

func TestIDSetRoundTrip(t *testing.T) {
	t.Parallel()
	s := &IDSet{fps: []uint64{3, 17, 1 << 40, 1<<64 - 1}}
	b, _ := s.MarshalBinary()
	var got IDSet
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.fps) != fmt.Sprint(s.fps) {
		t.Errorf("round trip %v, want %v", got.fps, s.fps)
	}
	for _, bad := range [][]byte{nil, []byte("gwids1"), b[:len(b)-1], append(b, 0)} {
		if err := got.UnmarshalBinary(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	var empty IDSet
	b, _ = empty.MarshalBinary()
	if err := got.UnmarshalBinary(b); err != nil || got.Len() != 0 {
		t.Errorf("empty set: %v, %d", err, got.Len())
	}
}

func TestSameFile(t *testing.T) {
	t.Parallel()
	files := []LogFile{{Name: "a", SHA256: "x"}, {Name: "b", SHA256: "y"}}
	if SameFile(files, "y") != 1 || SameFile(files, "z") != -1 || SameFile(files, "") != -1 {
		t.Error("SameFile")
	}
}

func TestCombineBoundsCells(t *testing.T) {
	t.Parallel()
	a := logFile(t, "a.csv", spendLogs(t0, 0, 60, reqID), ReadOptions{}, nil)
	b := logFile(t, "b.csv", spendLogs(t0.Add(time.Hour), 60, 60, reqID), ReadOptions{}, []LogFile{a})
	if _, _, err := Combine([]LogFile{a, b}, ReadOptions{MaxCells: 100}); err == nil || !strings.Contains(err.Error(), "would need 120 time × route × origin cells (at most 100)") {
		t.Errorf("over the cell bound: %v", err)
	}
	if _, _, err := Combine(nil, ReadOptions{}); err == nil {
		t.Error("no files combined")
	}
}

// TestIDsOfThePresets reads the request ids of the sample exports that
// carry one per request.
func TestIDsOfThePresets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, format, column string }{
		{"testdata/litellm_spendlogs.csv", "litellm-spendlogs", "request_id"},
		{"testdata/helicone.csv", "helicone", "request_id"},
		{"testdata/portkey.jsonl", "portkey", "id"},
		{"testdata/logs/litellm_errorlogs.csv", "litellm-errorlogs", "request_id"},
		{"testdata/logs/bedrock_invocations.jsonl", "bedrock-invocation", "requestId"},
		{"testdata/logs/langsmith_runs.jsonl", "langsmith", "id"},
		{"testdata/logs/langfuse_observations.csv", "langfuse", "id"},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		scan, err := ScanIDs(context.Background(), bytes.NewReader(data), ReadOptions{Now: testNow}, "", nil, MaxIDs)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		_, s := readString(t, string(data), ReadOptions{})
		if s.Format != c.format || scan.Column != c.column || scan.WithID == 0 || scan.WithID != scan.Rows || int64(scan.IDs.Len()) != scan.WithID-scan.Repeats {
			t.Errorf("%s (%s): ids from %q, %d of %d rows, %d kept, %d repeats", c.file, s.Format, scan.Column, scan.WithID, scan.Rows, scan.IDs.Len(), scan.Repeats)
		}
	}
	// Traces and aggregates have none, and say why.
	for file, why := range map[string]string{
		"testdata/azure_trace.csv":                   "no column of request ids",
		"testdata/openrouter_activity.csv":           "count several requests",
		"testdata/logs/litellm_daily_user_spend.csv": "count several requests",
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		scan, err := ScanIDs(context.Background(), bytes.NewReader(data), ReadOptions{Now: testNow}, "", nil, MaxIDs)
		if err != nil || scan.Column != "" || !strings.Contains(scan.NoIDs, why) {
			t.Errorf("%s: %+v, %v", file, scan, err)
		}
	}
}

// opener gives ReadAdded a file's bytes from the start each time.
func opener(data string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }
}

// TestReadAdded reads files one after the other as the command line does:
// the same results as the scan, filter and read of TestDuplicatesByIDAcrossFiles
// made by hand, and the refusals an upload makes.
func TestReadAdded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := ReadOptions{Now: testNow}
	first := spendLogs(t0, 0, 120, reqID)
	a, err := ReadAdded(ctx, opener(first), AddedLog{Name: "a.csv", SHA256: "sha-a", Options: o}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.IDColumn != "request_id" || a.IDs.Len() != 120 || a.Summary.Requests != 120 || a.Profile.Total.Requests != 120 {
		t.Fatalf("first: ids %q %d, %d requests", a.IDColumn, a.IDs.Len(), a.Summary.Requests)
	}
	second := spendLogs(t0.Add(time.Hour), 60, 120, reqID) + "req-9999,acompletion,0.001,5,5,0,not a time,,gpt-4o,gpt-4o,x,success\n"
	b, err := ReadAdded(ctx, opener(second), AddedLog{Name: "b.csv", SHA256: "sha-b", Options: o, Overlap: OverlapDrop}, []LogFile{a})
	if err != nil {
		t.Fatal(err)
	}
	s := b.Summary
	if b.Duplicates[0] != 60 || b.IDs.Len() != 61 || s.RowsRead != 121 || s.RowsUsed != 60 || s.RowsSkipped[ReasonDuplicate] != 60 ||
		len(s.Examples) != 1 || s.Examples[0].Line != 242 || b.Overlap != OverlapDrop {
		t.Errorf("second: %v duplicates, %d ids, read %d used %d skipped %v, examples %+v", b.Duplicates, b.IDs.Len(), s.RowsRead, s.RowsUsed, s.RowsSkipped, s.Examples)
	}
	p, c, err := Combine([]LogFile{a, b}, o)
	if err != nil || p.Total.Requests != 180 || c.RowsRead != 241 {
		t.Errorf("combined: %v, %+v", err, c.Summary)
	}

	for _, tc := range []struct {
		add  AddedLog
		data string
		want string
	}{
		{AddedLog{Name: "a.csv", SHA256: "sha-a"}, first, "it is given twice (the same bytes): a log counts once"},
		{AddedLog{Name: "copy.csv", SHA256: "sha-a"}, first, "it has the same bytes as a.csv: the same file counts once"},
		{AddedLog{Name: "again.csv", SHA256: "sha-again"}, first + "\n", "every row repeats a request id of a.csv: it adds nothing"},
		{AddedLog{Name: "c.csv", Overlap: "merge"}, first, `overlap "merge" is neither keep nor drop`},
		{AddedLog{Name: "d.csv", IDColumn: "trace"}, first, `the log has no column "trace" to read request ids from`},
		// Its repeats are filtered out on the way to the reader, which
		// then refuses it: the filter stops with it.
		{AddedLog{Name: "bad.csv"}, spendLogs(t0, 100, 30, reqID) + strings.Repeat("req-x,acompletion,0.001,5,5,0,no time,,gpt-4o,gpt-4o,x,success\n", 2000),
			"2000 of 2010 rows are bad"},
	} {
		tc.add.Options = o
		f, err := ReadAdded(ctx, opener(tc.data), tc.add, []LogFile{a})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.add.Name, err, tc.want)
		}
		if tc.add.Name == "bad.csv" && (f.Summary.RowsRead != 2030 || f.Summary.RowsSkipped[ReasonDuplicate] != 20) {
			t.Errorf("bad.csv: its summary %d read, skipped %v", f.Summary.RowsRead, f.Summary.RowsSkipped)
		}
	}
}

// TestDuplicateSpansInOTLP checks OpenTelemetry exports by span: a second
// collector file that repeats spans of the first (an export retried) has
// those spans skipped by traceId and spanId, whichever of its requests
// they are in; a file that repeats its own spans counts them, as a log
// that repeats its own request ids does; and a pretty-printed export keeps
// its line numbers once its repeated spans are left out.
func TestDuplicateSpansInOTLP(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/logs/otel_genai.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	o := ReadOptions{}
	a := logFile(t, "a.jsonl", string(data), o, nil)
	if a.IDColumn != "traceId+spanId" || a.IDs.Len() != 21 || a.Repeats != 0 || a.Summary.Requests != 21 {
		t.Fatalf("first: ids from %q, %d ids, %d repeats, %d requests", a.IDColumn, a.IDs.Len(), a.Repeats, a.Summary.Requests)
	}
	// The second file: the first's last request again (3 model call
	// spans), then its third with new trace ids (4 spans).
	third := strings.ReplaceAll(lines[2], `"traceId":"00000000000000000000000000abc0`, `"traceId":"00000000000000000000000000fff0`)
	if third == lines[2] {
		t.Fatal("the third request has no trace id to change")
	}
	b := logFile(t, "b.jsonl", lines[len(lines)-1]+third, o, []LogFile{a})
	if b.Duplicates[0] != 3 || b.IDs.Len() != 4 || b.Summary.RowsRead != 7 || b.Summary.RowsSkipped[ReasonDuplicate] != 3 || b.Summary.Requests != 4 {
		t.Errorf("second: %v duplicates, %d ids, read %d, skipped %v, %d requests", b.Duplicates, b.IDs.Len(), b.Summary.RowsRead, b.Summary.RowsSkipped, b.Summary.Requests)
	}
	p, c, err := Combine([]LogFile{a, b}, o)
	if err != nil {
		t.Fatal(err)
	}
	want := "b.jsonl repeats 3 request ids of a.jsonl (traceId+spanId): those rows were skipped, so each request counts once."
	if p.Total.Requests != 25 || len(c.Findings) == 0 || c.Findings[0].Text != want {
		t.Errorf("combined: %d requests, findings %+v", p.Total.Requests, c.Findings)
	}

	// A file that has a request twice: its 3 spans repeat, counted and
	// kept, as the reader counts them.
	twice := logFile(t, "twice.jsonl", string(data)+lines[1], o, nil)
	if twice.Repeats != 3 || twice.Summary.Requests != 24 {
		t.Errorf("a request twice: %d repeats, %d requests", twice.Repeats, twice.Summary.Requests)
	}

	// A pretty-printed export request, again with two spans changed: one
	// a new span, one a new span with a bad count. The other six model
	// call spans are the first file's and go; the bad one is reported on
	// the line where it starts in the file as given.
	doc, err := os.ReadFile("testdata/logs/otel_genai.json")
	if err != nil {
		t.Fatal(err)
	}
	first := logFile(t, "doc.json", string(doc), o, nil)
	changed := strings.Replace(string(doc), `"spanId": "b7ad6b7169203332"`, `"spanId": "b7ad6b71692033ff"`, 1)
	changed = strings.Replace(changed, `"spanId": "c7ad6b7169203335"`, `"spanId": "c7ad6b71692033fe"`, 1)
	changed = strings.Replace(changed, `"intValue": 900`, `"intValue": -900`, 1)
	scan, err := ScanIDs(context.Background(), strings.NewReader(changed), ReadOptions{Now: testNow}, "", []*IDSet{first.IDs}, MaxIDs)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Rows != 8 || scan.DuplicateRows != 6 || scan.IDs.Len() != 2 {
		t.Fatalf("document: %d rows, %d duplicates, %d ids", scan.Rows, scan.DuplicateRows, scan.IDs.Len())
	}
	var out bytes.Buffer
	if err := scan.Filter(context.Background(), strings.NewReader(changed), &out); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(out.String(), "\n"), strings.Count(changed, "\n"); got != want {
		t.Errorf("the filtered document has %d lines, the file %d", got, want)
	}
	_, s := readString(t, out.String(), ReadOptions{MaxBadFraction: 1})
	// The span that opens on line 413 ({ before "traceId" on 414).
	if s.RowsRead != 2 || s.RowsUsed != 1 || s.Requests != 1 || s.InputTokens != 3200 || len(s.Examples) != 1 || s.Examples[0].Line != 413 || s.Examples[0].Reason != ReasonNegative {
		t.Errorf("filtered document: read %d, used %d, %d requests, %d input tokens, examples %+v", s.RowsRead, s.RowsUsed, s.Requests, s.InputTokens, s.Examples)
	}
	// Its notes still count every span of the request: those that are
	// not model calls stay in it.
	if !slices.ContainsFunc(s.Notes, func(n string) bool { return strings.Contains(n, "are not GenAI model calls") }) {
		t.Errorf("notes: %q", s.Notes)
	}
}

// FuzzFilter checks a log against its own ids: every row with an id is a
// repeat, so the filtered log keeps the log's lines, whatever the log holds
// (OTLP requests and documents, CSV, JSON Lines, damaged), and when every
// row had an id, none is left. (A row without one, a line of two JSON
// values, can make the filtered log look like another container once the
// rows before it are gone: ReadAdded reads it as the file all the same,
// TestFilteredLogKeepsItsContainer.)
func FuzzFilter(f *testing.F) {
	for _, p := range []string{"testdata/logs/otel_genai.jsonl", "testdata/logs/otel_genai.json", "testdata/litellm_spendlogs.csv",
		"testdata/helicone.jsonl", "testdata/logs/bedrock_invocations.jsonl"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		o := ReadOptions{Now: testNow, MaxLineBytes: 4096}
		own, err := ScanIDs(ctx, bytes.NewReader(data), o, "", nil, MaxIDs)
		if err != nil || own.IDs == nil || own.Partial {
			return
		}
		again, err := ScanIDs(ctx, bytes.NewReader(data), o, "", []*IDSet{own.IDs}, MaxIDs)
		if err != nil {
			t.Fatalf("the second scan failed: %v", err)
		}
		if again.DuplicateRows != own.WithID {
			t.Fatalf("%d rows with ids, %d found again", own.WithID, again.DuplicateRows)
		}
		var out bytes.Buffer
		if err := again.Filter(ctx, bytes.NewReader(data), &out); err != nil {
			return // a gzip stream that ends early, say: the reader refuses it too
		}
		if got, want := bytes.Count(out.Bytes(), []byte{'\n'}), bytes.Count(data, []byte{'\n'}); got < want {
			t.Fatalf("the filtered log has %d line feeds, the log %d", got, want)
		}
		left, err := ScanIDs(ctx, bytes.NewReader(out.Bytes()), o, "", nil, MaxIDs)
		if err == nil && own.WithID == own.Rows && left.WithID > 0 {
			t.Fatalf("%d rows with ids left:\n%s", left.WithID, out.Bytes())
		}
	})
}

// jsonRows writes JSON Lines of one request a minute from t0, ids r<i>
// from first; a preset's keys (Helicone's) or plain ones for a mapping.
func jsonRows(first, n int, helicone bool) []string {
	var out []string
	for i := first; i < first+n; i++ {
		at := t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		if helicone {
			out = append(out, fmt.Sprintf(`{"request_id":"r%d","request_created_at":"%s","model":"gpt-4.1","response_status":200,"prompt_tokens":10,"completion_tokens":5}`, i, at))
		} else {
			out = append(out, fmt.Sprintf(`{"request_id":"r%d","ts":"%s","model":"gpt-4o","in":10,"out":5}`, i, at))
		}
	}
	return out
}

// TestFilteredLogKeepsItsContainer is the case FuzzFilter found: a log
// whose first rows repeat an earlier file's request ids, then a line with
// two JSON values on it. Left out, the first rows leave another line
// first, and the reader, which tells a container by its first line, would
// take JSON Lines for a JSON document or the reverse. The copy is read as
// the file is: a log read through a mapping in the file's container, a
// preset's refused at the line that would change it, never read as
// another container.
func TestFilteredLogKeepsItsContainer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mapping, err := ParseMapping("timestamp=ts,model=model,input_tokens=in,output_tokens=out")
	if err != nil {
		t.Fatal(err)
	}
	o := ReadOptions{Now: testNow, Mapping: mapping}
	added := func(o ReadOptions, first, data string) (LogFile, error) {
		t.Helper()
		a, err := ReadAdded(ctx, opener(first), AddedLog{Name: "a.json", SHA256: "sha-a", Options: o}, nil)
		if err != nil || a.IDs.Len() != 1 {
			t.Fatalf("first: %v, %d ids", err, a.IDs.Len())
		}
		return ReadAdded(ctx, opener(data), AddedLog{Name: "b.json", SHA256: "sha-b", Options: o}, []LogFile{a})
	}

	// A JSON document of values one after the other, two on its first
	// line and one over three lines: without r0, the first line holds one
	// value, as a line of JSON Lines does.
	rows := jsonRows(0, 20, false)
	pretty := strings.Replace(strings.Replace(rows[3], `,"ts"`, ",\n  \"ts\"", 1), `,"in"`, ",\n  \"in\"", 1)
	doc := rows[0] + " " + rows[1] + "\n" + rows[2] + "\n" + pretty + "\n" + strings.Join(rows[4:], "\n") + "\n"
	_, alone, err := Read(ctx, strings.NewReader(doc), o)
	if err != nil || alone.Container != "json" || alone.RowsUsed != 20 {
		t.Fatalf("the document alone: %v, %s, %d used", err, alone.Container, alone.RowsUsed)
	}
	b, err := added(o, rows[0]+"\n", doc)
	s := b.Summary
	if err != nil || s.Container != "json" || s.Format != "json" || s.RowsRead != 20 || s.RowsUsed != 19 || s.Requests != 19 ||
		s.RowsSkipped[ReasonDuplicate] != 1 || len(s.Examples) != 0 {
		t.Errorf("the document less r0: %v, %s (%s), read %d used %d, %d requests, skipped %v, examples %+v",
			err, s.Container, s.Format, s.RowsRead, s.RowsUsed, s.Requests, s.RowsSkipped, s.Examples)
	}

	// JSON Lines whose second line holds two values: without r0, that
	// line comes first. The reader, held to JSON Lines, cannot take its
	// first row; it is never read as a document of two good rows.
	damaged := `{"ts":"2026-03-02T09:00:00Z","model":"gpt-4o","in":7,"out":7} {"ts":"2026-03-02T09:01:00Z","model":"gpt-4o","in":7,"out":7}`
	lines := strings.Join(append([]string{rows[0], damaged}, rows[1:]...), "\n") + "\n"
	if _, alone, err := Read(ctx, strings.NewReader(lines), o); err != nil || alone.Container != "jsonl" || alone.RowsUsed != 20 || alone.RowsSkipped["syntax"] != 1 {
		t.Fatalf("the lines alone: %v, %s, %d used, skipped %v", err, alone.Container, alone.RowsUsed, alone.RowsSkipped)
	}
	var re *ReadError
	if _, err := added(o, rows[0]+"\n", lines); !errors.As(err, &re) || !strings.HasPrefix(err.Error(), "line 2: the first row is not valid JSON") {
		t.Errorf("the lines less r0: %v", err)
	}

	// Helicone's JSON Lines: the preset does not tell the reader the
	// container, so the file is refused at the line that would.
	o = ReadOptions{Now: testNow}
	rows = jsonRows(0, 20, true)
	lines = strings.Join(append([]string{rows[0], strings.ReplaceAll(damaged, `"ts"`, `"request_created_at"`)}, rows[1:]...), "\n") + "\n"
	if _, alone, err := Read(ctx, strings.NewReader(lines), o); err != nil || alone.Format != "helicone" || alone.Container != "jsonl" || alone.RowsUsed != 20 {
		t.Fatalf("helicone alone: %v, %s %s, %d used", err, alone.Format, alone.Container, alone.RowsUsed)
	}
	_, err = added(o, rows[0]+"\n", lines)
	want := "line 2: with the rows before it left out (their request ids are an earlier file's), this line would make the rest read as a JSON document rather than JSON Lines as in the file: correct or remove it, then add the file again"
	if !errors.As(err, &re) || err.Error() != want {
		t.Errorf("helicone less r0: %v, want %q", err, want)
	}
}
