package traffic

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sharedData is the third-party data kept beside the repository
// (../shared/data), read in place and never copied into testdata.
var sharedData = filepath.Join("..", "..", "..", "shared", "data")

// sharedFile is the path of rel in ../shared/data; the test is skipped when
// the file is not there.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	path := filepath.Join(sharedData, rel)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs %s in ../shared/data (the shared data folder beside the repository): %v", rel, err)
	}
	return path
}

// TestRelativeClockDefaultStart reads the first 400 rows of BurstGPT_1,
// whose Timestamp counts seconds from the trace's first midnight, with no
// start given: it used to be refused ("give the trace's start time").
func TestRelativeClockDefaultStart(t *testing.T) {
	t.Parallel()
	_, s, err := readFile(t, sharedFile(t, "burstgpt/BurstGPT_1_first400.csv"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	want := Clock{Relative: true, Unit: "offset_s", Start: &start, DefaultStart: true,
		Text: "the clock counts from zero; read as seconds from Monday 2026-01-05 00:00 UTC (gatewise's default start: the log does not say when it began)"}
	if !sameClock(s.Clock, want) {
		t.Errorf("clock = %+v\nwant    %+v", s.Clock, want)
	}
	if s.RowsUsed != 400 || !s.Start.Equal(start.Add(5*time.Second)) || !s.End.Equal(start.Add(37274*time.Second)) {
		t.Errorf("used %d, span %v to %v", s.RowsUsed, s.Start, s.End)
	}
	if FormatRate(s.RequestsPerDay) != "926" {
		t.Errorf("requests a day = %v, reads %q", s.RequestsPerDay, FormatRate(s.RequestsPerDay))
	}
}

func sameClock(a, b Clock) bool {
	if (a.Start == nil) != (b.Start == nil) || a.Start != nil && !a.Start.Equal(*b.Start) {
		return false
	}
	a.Start, b.Start = nil, nil
	return a == b
}

func TestRelativeClockGivenStart(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	_, s, err := readFile(t, sharedFile(t, "burstgpt/BurstGPT_3_first400.csv"), ReadOptions{Start: start})
	if err != nil {
		t.Fatal(err)
	}
	want := Clock{Relative: true, Unit: "offset_s", Start: &start, Text: "the clock counts from zero; read as seconds from Monday 2024-03-04 00:00 UTC"}
	if !sameClock(s.Clock, want) {
		t.Errorf("clock = %+v", s.Clock)
	}
	// BurstGPT_3's slice starts 19,440,110 s (day 225) into the trace.
	if s.RowsUsed != 400 || !s.Start.Equal(start.Add(19440110*time.Second)) {
		t.Errorf("used %d, start %v", s.RowsUsed, s.Start)
	}
}

// TestRelativeClockDetected is what the mapping page does with BurstGPT: the
// timestamp mapped with the unit left on auto, and a start typed in. Every
// row was "before 2000" when the offsets were read as epoch seconds.
func TestRelativeClockDetected(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	m, err := ParseMapping("timestamp=Timestamp,model=Model,input_tokens=Request tokens,output_tokens=Response tokens")
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := readFile(t, sharedFile(t, "burstgpt/BurstGPT_1_first400.csv"), ReadOptions{Format: "csv", Mapping: m, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	want := Clock{Relative: true, Unit: "offset_s", Start: &start, Detected: true, Text: "the clock counts from zero; read as seconds from Monday 2025-06-02 00:00 UTC"}
	if !sameClock(s.Clock, want) || s.RowsUsed != 400 || s.RowsSkipped[ReasonOldTime] != 0 {
		t.Errorf("clock = %+v, used %d, skipped %v", s.Clock, s.RowsUsed, s.RowsSkipped)
	}
	if !strings.HasPrefix(s.Mapping, "timestamp=Timestamp:offset_s,") {
		t.Errorf("mapping = %s", s.Mapping)
	}
}

func TestClockUnits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, csv, unit string
		relative        bool
		first           time.Time
	}{
		{"seconds", "t,input_tokens\n0,1\n90,1\n", "offset_s", true, DefaultStart},
		{"milliseconds by name", "t_ms,input_tokens\n0,1\n90,1\n", "offset_ms", true, DefaultStart},
		// 366 days and a second, were it seconds: longer than gatewise simulates.
		{"milliseconds by size", "t,input_tokens\n0,1\n31622401,1\n", "offset_ms", true, DefaultStart},
		{"epoch seconds", "t,input_tokens\n1735689600,1\n", "unix_s", false, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"epoch milliseconds", "t,input_tokens\n1735689600000,1\n", "unix_ms", false, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"iso", "t,input_tokens\n2025-01-01T00:00:00Z,1\n", "iso8601", false, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, s, err := Read(t.Context(), strings.NewReader(tc.csv), ReadOptions{Format: "csv", Mapping: Mapping{FieldTime: {Column: tc.csv[:strings.IndexByte(tc.csv, ',')]}}, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if s.Clock.Unit != tc.unit || s.Clock.Relative != tc.relative || !s.Start.Equal(tc.first) {
				t.Errorf("clock %+v, first request %v", s.Clock, s.Start)
			}
		})
	}
}

// TestStartIgnoredOnAbsoluteClock: a start given for a log with dates says
// it is not used rather than shifting anything.
func TestStartIgnoredOnAbsoluteClock(t *testing.T) {
	t.Parallel()
	_, s, err := readFile(t, "testdata/azure_trace.csv", ReadOptions{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	want := "the start time 2024-01-01 00:00 UTC is not used: the timestamps are absolute (ISO 8601 dates), not counted from zero"
	if s.Clock.Relative || s.Clock.Text != "timestamps are ISO 8601 dates" || len(s.Warnings) == 0 || s.Warnings[0] != want {
		t.Errorf("clock %+v, warnings %q", s.Clock, s.Warnings)
	}
}

// TestRelativeClockNotInFuture: a trace anchored at a start close to now
// may run past now; its rows are not "in the future", the clock is made up.
func TestRelativeClockNotInFuture(t *testing.T) {
	t.Parallel()
	in := []byte("Timestamp,Model,Request tokens,Response tokens\n0,GPT-4,1,1\n" + "172800,GPT-4,1,1\n")
	_, s, err := Read(t.Context(), bytes.NewReader(in), ReadOptions{Now: DefaultStart.Add(time.Hour)})
	if err != nil || s.RowsUsed != 2 {
		t.Errorf("err %v, used %d, skipped %v", err, s.RowsUsed, s.RowsSkipped)
	}
}
