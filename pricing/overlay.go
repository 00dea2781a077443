package pricing

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// WithOverlay returns a catalog whose prices come from o wherever o prices a
// host, and from c elsewhere; a price the file lacks (a cache price, say)
// keeps the catalog's. c itself is unchanged. The overlaid offers name the
// file and key as their source, and as their date the day their price took
// effect where the file dates it (genai-prices), else the overlay's AsOf.
func (c *Catalog) WithOverlay(o *Overlay) *Catalog {
	out := &Catalog{providers: c.providers, gateways: c.gateways, models: make([]Model, len(c.models))}
	for i, m := range c.models {
		m = cloneModel(m)
		for j, off := range m.Offers {
			e, ok := o.entries[hostKey{m.ID, off.Provider}]
			if !ok {
				continue
			}
			m.Offers[j] = overlayOffer(off, e, o)
		}
		out.models[i] = m
	}
	out.rates = buildRateTable(out)
	return out
}

func overlayOffer(off Offer, e *overlayEntry, o *Overlay) Offer {
	// A cache price the file omits keeps its catalog ratio to the input
	// price; an explicit one replaces it.
	off.Prices = mergePrices(off.Prices, e.base)
	if e.above > 0 {
		if off.LongContextAbove == 0 {
			off.Long = off.Prices
		}
		off.LongContextAbove = e.above
		off.Long = mergePrices(off.Long, e.long)
	} else if off.LongContextAbove > 0 {
		// The file has no long tier: scale the catalog's with the new base.
		scale := func(long, oldBase, newBase float64) float64 {
			if oldBase == 0 {
				return long
			}
			return long * newBase / oldBase
		}
		old := off
		off.Long.Input = scale(old.Long.Input, old.Prices.Input, off.Prices.Input)
		off.Long.Output = scale(old.Long.Output, old.Prices.Output, off.Prices.Output)
	}
	asOf := e.dated(o)
	if asOf == "" {
		asOf = "unknown"
	}
	off.Provenance = Provenance{AsOf: asOf, Source: fmt.Sprintf("%s (%s), key %q", o.Name, o.Format, e.key), Note: "imported"}
	return off
}

// dated is the date of the entry's prices: the day they took effect when
// the file says, else the file's date.
func (e *overlayEntry) dated(o *Overlay) string {
	if e.asOf != "" {
		return e.asOf
	}
	return o.AsOf
}

func mergePrices(old TokenPrices, p partialPrices) TokenPrices {
	n := old
	if p.input != nil {
		n.Input = *p.input
	}
	if p.output != nil {
		n.Output = *p.output
	}
	switch {
	case p.cacheRead != nil:
		n.CacheRead = *p.cacheRead
	case old.Input > 0:
		n.CacheRead = old.CacheRead * n.Input / old.Input
	}
	switch {
	case p.cacheWrite != nil:
		n.CacheWrite = *p.cacheWrite
	case old.Input > 0:
		n.CacheWrite = old.CacheWrite * n.Input / old.Input
	}
	switch {
	case p.reasoning != nil:
		n.Reasoning = *p.reasoning
	case old.Output > 0:
		n.Reasoning = old.Reasoning * n.Output / old.Output
	}
	return n
}

// PriceDiff is one price that differs between the catalog and a file.
type PriceDiff struct {
	Model       string  `json:"model"`
	Provider    string  `json:"provider"`
	Field       string  `json:"field"`
	Catalog     float64 `json:"catalog_usd_per_million"`
	File        float64 `json:"file_usd_per_million"`
	Change      float64 `json:"change"` // (file - catalog) / catalog
	CatalogAsOf string  `json:"catalog_as_of"`
	FileAsOf    string  `json:"file_as_of"`
	Key         string  `json:"file_key"`
	Line        int     `json:"file_line"`
}

// Diff lists the prices o states that differ from the catalog's by more than
// threshold (0.05 = 5 %), comparing only what the file states. Results are
// sorted by model, provider and field.
func (c *Catalog) Diff(o *Overlay, threshold float64) []PriceDiff {
	var out []PriceDiff
	for _, m := range c.models {
		for _, off := range m.Offers {
			e, ok := o.entries[hostKey{m.ID, off.Provider}]
			if !ok {
				continue
			}
			add := func(field string, cat float64, file *float64) {
				if file == nil {
					return
				}
				change := relChange(cat, *file)
				if math.Abs(change) <= threshold {
					return
				}
				out = append(out, PriceDiff{
					Model: m.ID, Provider: off.Provider, Field: field, Catalog: cat, File: *file, Change: change,
					CatalogAsOf: off.AsOf, FileAsOf: e.dated(o), Key: e.key, Line: e.line,
				})
			}
			add("input", off.Prices.Input, e.base.input)
			add("output", off.Prices.Output, e.base.output)
			add("cache_read", off.Prices.CacheRead, e.base.cacheRead)
			add("cache_write", off.Prices.CacheWrite, e.base.cacheWrite)
			add("reasoning", off.Prices.Reasoning, e.base.reasoning)
			if e.above > 0 && off.LongContextAbove > 0 {
				add("long_input", off.Long.Input, e.long.input)
				add("long_output", off.Long.Output, e.long.output)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b PriceDiff) int {
		return strings.Compare(a.Model+"\x00"+a.Provider, b.Model+"\x00"+b.Provider)
	})
	return out
}

// relChange is the relative change from a to b. From a zero price any
// price counts as +100 %, which keeps the value finite for JSON.
func relChange(a, b float64) float64 {
	if a == b {
		return 0
	}
	if a == 0 {
		return 1
	}
	return (b - a) / a
}
