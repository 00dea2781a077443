package traffic

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultStart is when a trace whose clock counts from zero is taken to
// begin unless the user gives a start: Monday 2026-01-05 00:00 UTC, the
// Monday the synthetic traffic starts on, so a replayed trace lines up with
// the outage model's weekdays in the same way.
var DefaultStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Clock says how a log's timestamps were read: absolute (ISO 8601 or an
// epoch number) or counting from zero, in which unit, and from which start.
type Clock struct {
	Relative bool   `json:"relative"`
	Unit     string `json:"unit"` // offset_s, offset_ms, iso8601, unix_s, unix_ms, unix_us or unix_ns
	// Start is what a relative clock counts from; DefaultStart marks
	// gatewise's default, used because none was given.
	Start        *time.Time `json:"start,omitempty"`
	DefaultStart bool       `json:"default_start,omitempty"`
	// Detected marks a unit told from the values (and the column's name)
	// rather than stated by the format or the mapping.
	Detected bool `json:"detected,omitempty"`
	// Text says the above in a sentence, for people.
	Text string `json:"text"`
}

// clockProbeRows bounds how many timestamps of the first chunk are looked
// at to tell the clock: enough to see past a few odd rows.
const clockProbeRows = 10_000

// minEpochSeconds is 2000-01-01 in seconds since 1970: numbers below it are
// no timestamp of an LLM request, so a column of them counts from zero.
const minEpochSeconds = minTimestamp / 1e9

// clockProbe counts what the first timestamps look like.
type clockProbe struct {
	iso, small, epoch int
	max               float64 // largest number seen
}

func (p *clockProbe) add(raw []byte) {
	if len(raw) >= 10 && raw[4] == '-' {
		p.iso++
		return
	}
	f, ok := parseFloat(raw)
	if !ok {
		return
	}
	if math.Abs(f) < minEpochSeconds {
		p.small++
	} else {
		p.epoch++
	}
	p.max = max(p.max, math.Abs(f))
}

// settleClock decides how the plan reads time, from the first chunk's
// timestamps, before any row is aggregated: a column of numbers too small
// to be epoch timestamps counts from zero, in seconds or milliseconds, and
// such a clock (detected, or stated by a format such as BurstGPT's) starts
// at o.Start, or DefaultStart when none is given. The plan's time units are
// set here, once, so every worker reads the same clock.
func settleClock(pl *plan, first *chunk, o *ReadOptions) (Clock, []string) {
	var warnings []string
	if len(pl.cands[FieldTime]) == 0 {
		return Clock{}, nil
	}
	var probe clockProbe
	pw := newWorker(pl, o)
	n := 0
	pw.probe = func(raw []byte) {
		probe.add(raw)
		n++
		pw.stop = n == clockProbeRows
	}
	pw.process(first)

	stated := UnitDefault
	for _, cd := range pl.cands[FieldTime] {
		if cd.unit != UnitDefault {
			stated = cd.unit
			break
		}
	}
	var ck Clock
	switch {
	case stated == UnitOffsetS || stated == UnitOffsetMS:
		ck.Relative, ck.Unit = true, stated.String()
	case stated == UnitDefault && probe.small > 0 && probe.epoch == 0 && probe.iso == 0:
		u := offsetUnitOf(pl.cands[FieldTime][0].name, probe.max)
		ck.Relative, ck.Unit, ck.Detected = true, u.String(), true
		for _, f := range []Field{FieldTime, FieldEnd} {
			for i := range pl.cands[f] {
				if pl.cands[f][i].unit == UnitDefault {
					pl.cands[f][i].unit = u
				}
			}
		}
	case stated != UnitDefault:
		ck.Unit = stated.String()
	case probe.iso >= probe.epoch && probe.iso > 0:
		ck.Unit, ck.Detected = UnitISO.String(), true
	case probe.epoch > 0:
		ck.Unit, ck.Detected = epochUnitOf(probe.max).String(), true
	}
	pl.relative = ck.Relative
	if ck.Relative {
		if o.Start.IsZero() {
			o.Start, ck.DefaultStart = DefaultStart, true
		}
		start := o.Start.UTC()
		ck.Start = &start
	} else if !o.Start.IsZero() {
		warnings = append(warnings, fmt.Sprintf("the start time %s is not used: the timestamps are absolute (%s), not counted from zero",
			o.Start.UTC().Format("2006-01-02 15:04 UTC"), unitWords(ck.Unit)))
	}
	ck.Text = ck.text()
	return ck, warnings
}

// offsetUnitOf tells seconds from milliseconds for a clock counting from
// zero: the column's name when it says (ts_ms, offset_sec), else the values,
// read as seconds unless that would make the log longer than a year, which
// gatewise never simulates.
func offsetUnitOf(column string, maxValue float64) Unit {
	for _, tok := range strings.FieldsFunc(strings.ToLower(column), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		switch tok {
		case "ms", "msec", "msecs", "millis", "milliseconds", "millisecond":
			return UnitOffsetMS
		case "s", "sec", "secs", "second", "seconds":
			return UnitOffsetS
		}
	}
	if maxValue > 366*86400 {
		return UnitOffsetMS
	}
	return UnitOffsetS
}

// epochUnitOf is the unit UnitDefault reads a number of this size in.
func epochUnitOf(v float64) Unit {
	switch {
	case v < 1e11:
		return UnitUnixS
	case v < 1e14:
		return UnitUnixMS
	case v < 1e17:
		return UnitUnixUS
	}
	return UnitUnixNS
}

// unitWords names a time unit for people.
func unitWords(unit string) string {
	switch unit {
	case "offset_s":
		return "seconds"
	case "offset_ms":
		return "milliseconds"
	case "iso8601":
		return "ISO 8601 dates"
	case "unix_s":
		return "epoch seconds"
	case "unix_ms":
		return "epoch milliseconds"
	case "unix_us":
		return "epoch microseconds"
	case "unix_ns":
		return "epoch nanoseconds"
	}
	return unit
}

func (c Clock) text() string {
	switch {
	case c.Relative:
		s := fmt.Sprintf("the clock counts from zero; read as %s from %s", unitWords(c.Unit), c.Start.Format("Monday 2006-01-02 15:04 UTC"))
		if c.DefaultStart {
			s += " (gatewise's default start: the log does not say when it began)"
		}
		return s
	case c.Unit != "":
		return "timestamps are " + unitWords(c.Unit)
	}
	return ""
}
