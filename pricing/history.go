package pricing

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// pricePeriod is one price a file states for a host with when it holds:
// from its first day (From, "" for always) to its last (Until, "" for open
// ended). genai-prices states a model's price history as prices with start
// dates; Helicone's cost data may bound an entry by a date range.
type pricePeriod struct {
	From, Until string
	// first marks the period a genai-prices file falls back to on a day no
	// other period covers (its first price).
	first bool
	base  partialPrices
	above int
	long  partialPrices
	key   string
	line  int
	// priority orders periods that cover the same day: the highest wins.
	// genai-prices: later prices in the list win; Helicone: the most
	// specific match.
	priority int
}

func (p pricePeriod) covers(day string) bool {
	return (p.From == "" || p.From <= day) && (p.Until == "" || day <= p.Until)
}

// today is the day "today" means for a file's price history, in UTC; tests
// pin it.
var today = func() string { return time.Now().UTC().Format(time.DateOnly) }

// Today is the day an overlay with a price history answers unless At
// chooses another, in UTC.
func Today() string { return today() }

// HasHistory says whether the file states dated prices, so that the day a
// run is priced at changes the prices (genai-prices start dates, Helicone
// date ranges).
func (o *Overlay) HasHistory() bool { return len(o.dated) > 0 }

// At returns the overlay as the file prices day (YYYY-MM-DD): each host
// with a price history takes the price in force that day, dated by the day
// it took effect, or by day itself for a first price the file gives no
// start; others keep theirs. o itself is unchanged. A host none of whose
// prices holds that day (a Helicone entry bounded to other dates) keeps the
// catalog's price.
func (o *Overlay) At(day string) (*Overlay, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", day)
	}
	out := *o
	out.Day = day
	out.entries = o.resolved(day)
	return &out, nil
}

// resolved is the overlay's entries on day: the undated ones as they are,
// each dated one at its price in force that day.
func (o *Overlay) resolved(day string) map[hostKey]*overlayEntry {
	out := make(map[hostKey]*overlayEntry, len(o.entries)+len(o.dated))
	for k, e := range o.entries {
		if len(e.history) == 0 {
			out[k] = e
		}
	}
	for k, e := range o.dated {
		if r, ok := e.resolve(day); ok {
			if r.asOf == "" {
				r.asOf = day
			}
			out[k] = r
		}
	}
	return out
}

// resolve sets the entry's prices to the period in force on day: of the
// periods covering it the one of highest priority (the later on a tie);
// when none covers it, the first-price fallback if the file has one.
func (e *overlayEntry) resolve(day string) (*overlayEntry, bool) {
	best := e.inForce(day)
	if best < 0 {
		return nil, false
	}
	p := e.history[best]
	r := *e
	r.key, r.line = p.key, p.line
	r.base, r.above, r.long = p.base, p.above, p.long
	r.asOf = p.From
	return &r, true
}

// inForce is the index of the period in force on day, -1 for none.
func (e *overlayEntry) inForce(day string) int {
	best := -1
	for i, p := range e.history {
		if p.covers(day) && (best < 0 || p.priority >= e.history[best].priority) {
			best = i
		}
	}
	if best < 0 {
		for i, p := range e.history {
			if p.first {
				best = i
				break
			}
		}
	}
	return best
}

// HostHistory is a host's dated prices as a file states them, oldest first.
type HostHistory struct {
	Model    string
	Provider string
	Periods  []PricePeriod
}

// PricePeriod is one dated price of a host. Fields the file leaves out are
// zero; Has says which it states.
type PricePeriod struct {
	From, Until string
	Key         string
	Line        int
	Input       float64
	Output      float64
	CacheRead   float64
	CacheWrite  float64
	// LongAbove is the prompt size beyond which the long-context prices
	// apply; 0 when the file states none.
	LongAbove              int
	LongInput, LongOutput  float64
	HasCacheRead, HasWrite bool
	// InForce marks the period the overlay answers on its Day.
	InForce bool
}

// When says when the price holds, for people: "from 2026-09-01",
// "2025-04-16 to 2025-06-09", "until 2026-08-31" or "any day".
func (p PricePeriod) When() string {
	switch {
	case p.From != "" && p.Until != "":
		return p.From + " to " + p.Until
	case p.From != "":
		return "from " + p.From
	case p.Until != "":
		return "until " + p.Until
	}
	return "any day"
}

// History lists every host whose price changes over time in the file,
// sorted by model and provider, with the period in force on the overlay's
// Day marked. Hosts with a single undated price are left out.
func (o *Overlay) History() []HostHistory {
	var out []HostHistory
	day := o.Day
	if day == "" {
		day = today()
	}
	for k, e := range o.dated {
		if len(e.history) < 2 && e.history[0].From == "" && e.history[0].Until == "" {
			continue
		}
		h := HostHistory{Model: k.model, Provider: k.provider}
		cur := e.inForce(day)
		for i, p := range e.history {
			pp := PricePeriod{From: p.From, Until: p.Until, Key: p.key, Line: p.line, LongAbove: p.above}
			get := func(v *float64) float64 {
				if v == nil {
					return 0
				}
				return *v
			}
			pp.Input, pp.Output = get(p.base.input), get(p.base.output)
			pp.CacheRead, pp.HasCacheRead = get(p.base.cacheRead), p.base.cacheRead != nil
			pp.CacheWrite, pp.HasWrite = get(p.base.cacheWrite), p.base.cacheWrite != nil
			pp.LongInput, pp.LongOutput = get(p.long.input), get(p.long.output)
			pp.InForce = i == cur
			h.Periods = append(h.Periods, pp)
		}
		slices.SortStableFunc(h.Periods, func(a, b PricePeriod) int { return strings.Compare(a.From, b.From) })
		if e.history[0].first {
			// genai-prices: a price holds until the next one starts.
			for i := range len(h.Periods) - 1 {
				if next, err := time.Parse(time.DateOnly, h.Periods[i+1].From); err == nil && h.Periods[i].Until == "" {
					h.Periods[i].Until = next.AddDate(0, 0, -1).Format(time.DateOnly)
				}
			}
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b HostHistory) int {
		return strings.Compare(a.Model+"\x00"+a.Provider, b.Model+"\x00"+b.Provider)
	})
	return out
}

// setHistory records a host's dated prices and sets its current prices to
// those in force today.
func (im *importer) setHistory(t aliasTarget, periods []pricePeriod) error {
	if len(periods) == 0 {
		return nil
	}
	for _, p := range periods {
		e := entry{key: p.key, line: p.line}
		for _, f := range []struct {
			n string
			v *float64
		}{{"input", p.base.input}, {"output", p.base.output}, {"cache_read", p.base.cacheRead}, {"cache_write", p.base.cacheWrite},
			{"reasoning", p.base.reasoning}, {"long input", p.long.input}, {"long output", p.long.output},
			{"long cache_read", p.long.cacheRead}, {"long cache_write", p.long.cacheWrite}} {
			if err := im.checkPrice(e, f.n, f.v); err != nil {
				return err
			}
		}
	}
	k := hostKey{t.model, t.provider}
	e := &overlayEntry{key: periods[0].key, line: periods[0].line, priority: t.priority, history: periods}
	im.overlay.dated[k] = e
	if r, ok := e.resolve(today()); ok {
		im.overlay.entries[k] = r
	}
	return nil
}
