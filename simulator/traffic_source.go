package simulator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Describe says in a sentence what traffic a run replayed: "the log x.csv
// (csv; 1,440 of 1,441 rows over 24 h from 2026-01-05 00:00 UTC), all 24 h
// of it repeated 30 times to fill the 30-day horizon: 1,440 requests a day
// as replayed", or "synthetic traffic from the architecture: 2,000
// requests a day". It is plain text; a Markdown writer escapes it.
func (t TrafficSource) Describe() string {
	volume := grouped(t.RequestsPerDay) + " requests a day"
	switch {
	case t.Kind == TrafficLog && t.Log != nil:
		l := t.Log
		rows := separated(l.RowsUsed) + " rows"
		if l.RowsRead > l.RowsUsed {
			rows = separated(l.RowsUsed) + " of " + separated(l.RowsRead) + " rows"
		}
		when := ""
		if !l.Start.IsZero() {
			when = " from " + l.Start.UTC().Format("2006-01-02 15:04") + " UTC"
		}
		out := fmt.Sprintf("the log %s (%s; %s over %s%s)", l.File, l.Format, rows, spanText(t.SpanHours), when)
		if t.Filled != "" {
			out += ", " + t.Filled
		}
		return out + ": " + volume + " as replayed"
	case t.Kind == TrafficSynthetic:
		return "synthetic traffic from the architecture's traffic block: " + volume + " as sampled"
	}
	return "traffic not recorded (the run is older than gatewise's record of it)"
}

// spanText is a span of hours for people: "45 min", "1 h", "36 h", "12 days".
func spanText(h float64) string {
	if h < 1 {
		return strconv.Itoa(int(math.Round(h*60))) + " min"
	}
	return hoursText(h)
}

// grouped writes a rate rounded to four significant figures with
// thousands separators: "464,800", "1,440", "926".
func grouped(v float64) string {
	if v >= 10000 {
		p := math.Pow(10, math.Floor(math.Log10(v))-3)
		v = math.Round(v/p) * p
	}
	return separated(int64(math.Round(v)))
}

// separated writes an exact count with thousands separators.
func separated(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
