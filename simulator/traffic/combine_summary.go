package traffic

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// ReasonDuplicate is the skip reason of a row whose request id an earlier
// file of the same combination has.
const ReasonDuplicate = "duplicate_request_id"

// What to do with a later file's requests in a span an earlier file also
// covers, when request ids cannot tell whether they are the same requests.
const (
	// OverlapKeep keeps both: right for different deployments or routes,
	// or LiteLLM's SpendLogs beside its ErrorLogs, which hold other
	// requests of the same hours.
	OverlapKeep = "keep"
	// OverlapDrop leaves out the later file's requests in the span.
	OverlapDrop = "drop"
)

// Kinds of Finding.
const (
	FindingDuplicates = "duplicate_ids" // rows of a file repeat request ids of an earlier one
	FindingOverlap    = "overlap"       // two files cover the same span
	FindingGap        = "gap"           // no file covers a span between two others
	FindingClock      = "clock"         // files whose clocks are read differently
	FindingIDs        = "ids"           // what the check by request id could not cover
)

// minGap is the shortest time between files that a combination reports:
// shorter gaps are the quiet minutes of day files.
const minGap = time.Hour

// LogFile is one file of a combined log, as gatewise keeps it between
// additions: what was read of it, alone.
type LogFile struct {
	Name   string
	SHA256 string // of the bytes as uploaded; empty when not known
	// Profile and Summary are the file's own, read without the rows whose
	// request ids an earlier file has (counted in Summary.RowsSkipped under
	// ReasonDuplicate).
	Profile *Profile
	Summary Summary
	// IDs are its request ids' fingerprints, those of no earlier file; nil
	// when it has none (NoIDs says why) or they were not kept.
	IDs       *IDSet
	IDColumn  string
	NoIDs     string
	IDPartial bool
	// Repeats counts its rows whose id an earlier row of its own has.
	Repeats int64
	// Duplicates counts, per earlier file (by index), its rows left out
	// because that file has their request ids.
	Duplicates []int64
	// Overlap is OverlapKeep or OverlapDrop: what happens to its requests
	// in spans earlier files cover, where ids cannot tell. Empty means keep.
	Overlap string
}

// Combined is the summary of several files read into one profile: the
// summary of the whole, each file, and what combining them found and did.
type Combined struct {
	Summary
	Files    []FileSummary `json:"files,omitempty"`
	Findings []Finding     `json:"findings,omitempty"`
}

// FileSummary is one file of a combination.
type FileSummary struct {
	Name        string           `json:"name"`
	SHA256      string           `json:"sha256,omitempty"`
	Format      string           `json:"format"`
	FormatTitle string           `json:"format_title,omitempty"`
	Container   string           `json:"container,omitempty"`
	Gzip        bool             `json:"gzip,omitempty"`
	Mapping     string           `json:"mapping,omitempty"`
	RowsRead    int64            `json:"rows_read"`
	RowsUsed    int64            `json:"rows_used"`
	RowsSkipped map[string]int64 `json:"rows_skipped"`
	// Requests are those read from the file; DroppedRequests those of
	// them left out where it overlaps earlier files (Overlap drop).
	Requests        int64     `json:"requests"`
	DroppedRequests int64     `json:"dropped_requests,omitempty"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	RequestsPerDay  float64   `json:"requests_per_day"`
	// IDColumn is where its request ids were read; NoIDs why it has none.
	IDColumn      string `json:"id_column,omitempty"`
	NoIDs         string `json:"no_ids,omitempty"`
	DuplicateRows int64  `json:"duplicate_rows,omitempty"`
	// Overlap is the choice that applies to it (keep or drop), set when
	// it overlaps an earlier file that ids cannot tell it from.
	Overlap  string    `json:"overlap,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
	Examples []Problem `json:"examples,omitempty"`
}

// Finding is one thing combining files found, and what was done about it,
// in a sentence (Text).
type Finding struct {
	Kind string `json:"kind"`
	// File is the later file, Other the earlier one (by name and index).
	File      string `json:"file"`
	FileIndex int    `json:"file_index"`
	Other     string `json:"other,omitempty"`
	// OtherIndex is -1 when the finding concerns one file.
	OtherIndex int `json:"other_index"`
	// Hours is the span of an overlap or a gap.
	Hours float64 `json:"hours,omitempty"`
	// Requests and OtherRequests are each file's requests in an overlap;
	// Duplicates the rows of File skipped for ids of Other.
	Requests      int64 `json:"requests,omitempty"`
	OtherRequests int64 `json:"other_requests,omitempty"`
	Duplicates    int64 `json:"duplicates,omitempty"`
	// Action is what gatewise did: skipped, kept, dropped or none.
	Action string `json:"action"`
	// Choice says the user may choose between keep and drop for File.
	Choice bool   `json:"choice,omitempty"`
	Text   string `json:"text"`
}

// SameFile returns the index of the file whose bytes hashed to sha256, or
// -1.
func SameFile(files []LogFile, sha256 string) int {
	if sha256 == "" {
		return -1
	}
	for i, f := range files {
		if f.SHA256 == sha256 {
			return i
		}
	}
	return -1
}

// CountDuplicates puts the rows Filter left out into a file's summary, as
// rows read and skipped, so its counts are those of the whole file.
func CountDuplicates(s *Summary, rows int64) {
	if rows <= 0 {
		return
	}
	if s.RowsSkipped == nil {
		s.RowsSkipped = map[string]int64{}
	}
	s.RowsRead += rows
	s.RowsSkipped[ReasonDuplicate] += rows
}

// decided says whether request ids told file i's rows from file j's (j
// earlier): both have ids and j's were kept.
func decided(files []LogFile, j, i int) bool {
	return files[i].IDColumn != "" && files[j].IDs != nil
}

// span is a file's time span, first to last request.
func (f *LogFile) span() (time.Time, time.Time, bool) {
	s := f.Summary
	return s.Start, s.End, !s.Start.IsZero() && !s.End.IsZero() && f.Profile != nil && len(f.Profile.Cells) > 0
}

// overlapOf is the span files a and b both cover, if any.
func overlapOf(a, b *LogFile) (time.Time, time.Time, bool) {
	as, ae, ok1 := a.span()
	bs, be, ok2 := b.span()
	if !ok1 || !ok2 {
		return time.Time{}, time.Time{}, false
	}
	from, to := maxTime(as, bs), minTime(ae, be)
	return from, to, to.After(from)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Combine reads several files as one log: each file's profile, less the
// requests its Overlap choice drops, merged on one clock, with a summary of
// the whole and what was found. o are the options the files were read with
// (for the summary's notes on routes and models).
func Combine(files []LogFile, o ReadOptions) (*Profile, Combined, error) {
	var out Combined
	if len(files) == 0 {
		return nil, out, errors.New("combine: no file")
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, out, err
	}
	kept := make([]*Profile, len(files))
	dropped := make([]int64, len(files))
	choice := make([]bool, len(files))
	for i := range files {
		f := &files[i]
		if f.Profile == nil {
			return nil, out, fmt.Errorf("combine: %s has no profile", f.Name)
		}
		kept[i] = f.Profile
		for j := range i {
			from, to, ok := overlapOf(&files[j], f)
			if !ok || decided(files, j, i) {
				continue
			}
			choice[i] = true
			if f.Overlap == OverlapDrop {
				var d Demand
				kept[i], d = kept[i].Without(from, to)
				dropped[i] += d.Requests
			}
		}
	}
	merged, err := Merge(kept...)
	if err != nil {
		return nil, out, err
	}
	if len(merged.Cells) > o.MaxCells {
		return nil, out, fmt.Errorf("the files together would need %s time × route × origin cells (at most %s): read them with a wider bin than %v",
			FormatCount(int64(len(merged.Cells))), FormatCount(int64(o.MaxCells)), merged.BinWidth)
	}
	out.Summary = combinedSummary(files, merged, &o)
	for i := range files {
		f := &files[i]
		fs := FileSummary{Name: f.Name, SHA256: f.SHA256, Format: f.Summary.Format, FormatTitle: f.Summary.FormatTitle,
			Container: f.Summary.Container, Gzip: f.Summary.Gzip, Mapping: f.Summary.Mapping,
			RowsRead: f.Summary.RowsRead, RowsUsed: f.Summary.RowsUsed, RowsSkipped: f.Summary.RowsSkipped,
			Requests: f.Summary.Requests, DroppedRequests: dropped[i], Start: f.Summary.Start, End: f.Summary.End,
			RequestsPerDay: f.Summary.RequestsPerDay, IDColumn: f.IDColumn, NoIDs: f.NoIDs,
			Warnings: ownWarnings(f.Summary, &o), Examples: f.Summary.Examples}
		if fs.RowsSkipped == nil {
			fs.RowsSkipped = map[string]int64{}
		}
		fs.DuplicateRows = fs.RowsSkipped[ReasonDuplicate]
		if choice[i] {
			fs.Overlap = f.Overlap
			if fs.Overlap == "" {
				fs.Overlap = OverlapKeep
			}
		}
		out.Files = append(out.Files, fs)
	}
	out.Findings = findings(files, kept)
	return merged, out, nil
}

// combinedSummary adds the files' summaries up; the traffic itself comes
// from the merged profile, so what an overlap dropped is not counted.
func combinedSummary(files []LogFile, merged *Profile, o *ReadOptions) Summary {
	var s Summary
	s.RowsSkipped, s.Errors = map[string]int64{}, map[string]int64{}
	var formats, titles []string
	sameMapping := true
	models := map[string]*Count{}
	unknown := map[string]bool{}
	var lat LatencySummary
	var latSum float64
	usersIn := 0
	for i, f := range files {
		fs := f.Summary
		formats = appendNew(formats, fs.Format)
		titles = appendNew(titles, fs.FormatTitle)
		s.Gzip = s.Gzip || fs.Gzip
		if i > 0 && fs.Mapping != files[0].Summary.Mapping {
			sameMapping = false
		}
		s.Bytes += fs.Bytes
		s.RowsRead += fs.RowsRead
		s.RowsUsed += fs.RowsUsed
		for k, v := range fs.RowsSkipped {
			s.RowsSkipped[k] += v
		}
		s.CostUSD += fs.CostUSD
		s.CostRows += fs.CostRows
		s.OutOfOrder += fs.OutOfOrder
		if !fs.Start.IsZero() && (s.Start.IsZero() || fs.Start.Before(s.Start)) {
			s.Start = fs.Start
		}
		if fs.End.After(s.End) {
			s.End = fs.End
		}
		for _, m := range fs.Models {
			c := models[m.Name]
			if c == nil {
				c = &Count{Name: m.Name, Known: m.Known}
				models[m.Name] = c
			}
			c.Requests += m.Requests
			if c.Route == "" {
				c.Route = m.Route
			}
		}
		for _, m := range fs.UnknownModels {
			unknown[m] = true
		}
		if l := fs.Latency; l != nil {
			lat.Count += l.Count
			latSum += l.MeanMs * float64(l.Count)
			lat.MaxMs = max(lat.MaxMs, l.MaxMs)
		}
		if fs.Users > 0 {
			usersIn++
			s.Users = max(s.Users, fs.Users)
			s.UsersAtLeast = s.UsersAtLeast || fs.UsersAtLeast
		}
	}
	// Users are counted by a hash no file keeps: across files, only the
	// largest count is certain.
	s.UsersAtLeast = s.UsersAtLeast || usersIn > 1
	// A container is one of csv, jsonl and json, as tools reading the
	// summary expect: the first file's stands for the whole, and each
	// file's is in its FileSummary.
	s.Format, s.FormatTitle, s.Container = strings.Join(formats, " + "), strings.Join(titles, " + "), files[0].Summary.Container
	s.Clock = files[0].Summary.Clock
	if sameMapping {
		s.Mapping, s.Fields = files[0].Summary.Mapping, files[0].Summary.Fields
	}
	t := merged.Total
	s.Requests, s.InputTokens, s.CachedInputTokens, s.OutputTokens = t.Requests, t.Input, t.CachedInput, t.Output
	for c := range NumErrorClasses {
		s.Errors[c.String()] = t.Errors[c]
	}
	s.RequestsPerDay = merged.RequestsPerDay()
	for _, name := range slices.Sorted(maps.Keys(models)) {
		s.Models = append(s.Models, *models[name])
	}
	slices.SortStableFunc(s.Models, func(a, b Count) int { return int(b.Requests - a.Requests) })
	s.UnknownModels = slices.Sorted(maps.Keys(unknown))
	perRoute := make([]int64, len(merged.Routes))
	perOrigin := make([]int64, len(merged.Origins))
	for _, c := range merged.Cells {
		perRoute[c.Route] += c.Demand.Requests
		perOrigin[c.Origin] += c.Demand.Requests
	}
	for i, n := range merged.Routes {
		s.Routes = append(s.Routes, Count{Name: n, Requests: perRoute[i]})
	}
	for i, n := range merged.Origins {
		s.Origins = append(s.Origins, Count{Name: n, Requests: perOrigin[i]})
	}
	if lat.Count > 0 {
		var all Histogram
		for _, h := range merged.Latency {
			for i := range h {
				all[i] += h[i]
			}
		}
		lat.MeanMs = latSum / float64(lat.Count)
		lat.P50Ms, lat.P95Ms, lat.P99Ms = all.Quantile(0.5), all.Quantile(0.95), all.Quantile(0.99)
		s.Latency = &lat
	}
	s.explain(o, time.Duration(merged.Bins)*merged.BinWidth)
	return s
}

// ownWarnings are a file's warnings less those on its volume (too few
// requests, too short a span): the combination's summary says those of the
// whole, which is what a run replays.
func ownWarnings(s Summary, o *ReadOptions) []string {
	probe := s
	probe.Warnings, probe.Notes = nil, nil
	span := s.End.Sub(s.Start)
	if s.RequestsPerDay > 0 {
		span = time.Duration(float64(s.Requests) / s.RequestsPerDay * 24 * float64(time.Hour))
	}
	probe.explain(o, span)
	var out []string
	for _, w := range s.Warnings {
		if !slices.Contains(probe.Warnings, w) {
			out = append(out, w)
		}
	}
	return out
}

func appendNew(xs []string, x string) []string {
	if x == "" || slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// findings says what combining the files found, file by file in the order
// they were added.
func findings(files []LogFile, kept []*Profile) []Finding {
	var out []Finding
	for i := range files {
		f := &files[i]
		for j, n := range f.Duplicates {
			if n == 0 || j >= i {
				continue
			}
			out = append(out, Finding{Kind: FindingDuplicates, File: f.Name, FileIndex: i, Other: files[j].Name, OtherIndex: j,
				Duplicates: n, Action: "skipped",
				Text: fmt.Sprintf("%s repeats %s of %s (%s): %s skipped, so each request counts once.",
					f.Name, Plural(n, "request id"), files[j].Name, f.IDColumn, pronoun(n, "that row was", "those rows were"))})
		}
		for j := range i {
			from, to, ok := overlapOf(&files[j], f)
			if !ok {
				continue
			}
			out = append(out, overlapFinding(files, kept, j, i, from, to))
		}
		if f.IDPartial {
			out = append(out, Finding{Kind: FindingIDs, File: f.Name, FileIndex: i, OtherIndex: -1, Action: "none",
				Text: fmt.Sprintf("%s has more request ids than gatewise keeps (%s for all files together): files added later are checked against its first ones only.",
					f.Name, FormatCount(MaxIDs))})
		}
		if f.Repeats > 0 {
			out = append(out, Finding{Kind: FindingIDs, File: f.Name, FileIndex: i, OtherIndex: -1, Action: "kept",
				Text: fmt.Sprintf("%s repeats %s of its own rows (%s); the file counts them so, and they were kept.",
					f.Name, Plural(f.Repeats, "request id"), f.IDColumn)})
		}
	}
	for j := range files {
		g := &files[j]
		if g.IDs != nil || g.IDColumn != "" || g.NoIDs != "" {
			continue
		}
		if slices.ContainsFunc(files[j+1:], func(f LogFile) bool { return f.IDColumn != "" }) {
			out = append(out, Finding{Kind: FindingIDs, File: g.Name, FileIndex: j, OtherIndex: -1, Action: "none",
				Text: fmt.Sprintf("%s was read before gatewise kept request ids and checksums with a log: files added after it are checked against it by time, not by id.", g.Name)})
		}
	}
	out = append(out, gaps(files)...)
	var relative, absolute []string
	for _, f := range files {
		if f.Summary.Clock.Relative {
			relative = append(relative, f.Name)
		} else {
			absolute = append(absolute, f.Name)
		}
	}
	if len(relative) > 0 && len(absolute) > 0 {
		out = append(out, Finding{Kind: FindingClock, File: relative[0], FileIndex: slices.IndexFunc(files, func(f LogFile) bool { return f.Name == relative[0] }),
			OtherIndex: -1, Action: "none",
			Text: fmt.Sprintf("%s %s a clock counting from zero, read from a start, while %s %s dates: they line up only if that start is right.",
				listShort(relative, 3), pronoun(int64(len(relative)), "has", "have"), listShort(absolute, 3), pronoun(int64(len(absolute)), "carries", "carry"))})
	}
	return out
}

// overlapFinding words the overlap of file i with the earlier file j.
func overlapFinding(files []LogFile, kept []*Profile, j, i int, from, to time.Time) Finding {
	f, g := &files[i], &files[j]
	mine := f.Profile.Within(from, to).Requests
	theirs := kept[j].Within(from, to).Requests
	span := to.Sub(from)
	fd := Finding{Kind: FindingOverlap, File: f.Name, FileIndex: i, Other: g.Name, OtherIndex: j,
		Hours: math.Round(span.Hours()*100) / 100, Requests: mine, OtherRequests: theirs}
	head := fmt.Sprintf("%s overlaps %s for %s", f.Name, g.Name, DurationWords(span))
	counts := fmt.Sprintf("%s has %s in that time, %s %s", f.Name, Plural(mine, "request"), g.Name, FormatCount(theirs))
	switch {
	case decided(files, j, i):
		fd.Action = "kept"
		dups := int64(0)
		if j < len(f.Duplicates) {
			dups = f.Duplicates[j]
		}
		if dups == 0 {
			fd.Text = fmt.Sprintf("%s (%s); their request ids differ, so they are different requests: both kept.", head, counts)
		} else {
			fd.Text = fmt.Sprintf("%s; %s of its rows repeat request ids of %s and were skipped; its other %s in that time %s ids of their own: kept.",
				head, FormatCount(dups), g.Name, Plural(mine, "request"), pronoun(mine, "has", "have"))
		}
	case f.Overlap == OverlapDrop:
		fd.Action, fd.Choice = "dropped", true
		fd.Text = fmt.Sprintf("%s: its %s in that time %s dropped, as chosen; %s's %s stand for them.",
			head, Plural(mine, "request"), pronoun(mine, "was", "were"), g.Name, FormatCount(theirs))
	default:
		fd.Action, fd.Choice = "kept", true
		why := "Without request ids in both files"
		switch {
		case f.NoIDs == noIDsOff:
			why = "With the check by request id turned off for " + f.Name + ","
		case f.IDColumn == "":
			why += " (" + f.Name + " has none)"
		case g.IDs == nil:
			why += " (" + g.Name + " has none)"
		}
		fd.Text = fmt.Sprintf("%s (%s). %s gatewise cannot tell repeated requests from different ones, so both were kept: right for different deployments or routes, or SpendLogs beside ErrorLogs. If %s logs %s's requests again, drop its overlap.",
			head, counts, why, f.Name, g.Name)
		if mine > 0 && sameTraffic(f.Profile, g.Profile, from, to) {
			fd.Text += fmt.Sprintf(" In that time its traffic is %s's minute by minute, requests and tokens: most likely the same requests logged twice.", g.Name)
		}
	}
	return fd
}

// sameTraffic says whether two profiles have the same requests and tokens
// in every bin that holds an instant of [from, to], whatever their routes
// and origins: two exports of the same requests.
func sameTraffic(a, b *Profile, from, to time.Time) bool {
	perBin := func(p *Profile) map[int64]Demand {
		out := map[int64]Demand{}
		lo, hi, ok := p.binSpan(from, to)
		if !ok {
			return out
		}
		first := p.Start.UnixNano() / int64(p.BinWidth)
		for i := range p.Cells {
			c := &p.Cells[i]
			if c.Bin >= lo && c.Bin <= hi {
				d := out[first+int64(c.Bin)]
				d.add(&Demand{Requests: c.Demand.Requests, Input: c.Demand.Input, CachedInput: c.Demand.CachedInput, Output: c.Demand.Output})
				out[first+int64(c.Bin)] = d
			}
		}
		return out
	}
	if a.BinWidth != b.BinWidth {
		return false
	}
	x, y := perBin(a), perBin(b)
	if len(x) != len(y) {
		return false
	}
	for k, d := range x {
		if y[k] != d {
			return false
		}
	}
	return true
}

// gaps finds the spans of an hour or more that no file covers, between the
// first file's start and the last one's end: replayed, they are quiet.
func gaps(files []LogFile) []Finding {
	type iv struct {
		from, to time.Time
		i        int
	}
	var ivs []iv
	for i := range files {
		if from, to, ok := files[i].span(); ok {
			ivs = append(ivs, iv{from, to, i})
		}
	}
	slices.SortFunc(ivs, func(a, b iv) int { return a.from.Compare(b.from) })
	var out []Finding
	for k := 1; k < len(ivs); k++ {
		reach, last := ivs[0].to, ivs[0].i
		for _, v := range ivs[:k] {
			if v.to.After(reach) {
				reach, last = v.to, v.i
			}
		}
		if gap := ivs[k].from.Sub(reach); gap >= minGap {
			a, b := files[last].Name, files[ivs[k].i].Name
			out = append(out, Finding{Kind: FindingGap, File: b, FileIndex: ivs[k].i, Other: a, OtherIndex: last,
				Hours: math.Round(gap.Hours()*100) / 100, Action: "none",
				Text: fmt.Sprintf("No file covers the %s between %s and %s: a run replays that time as quiet, and the daily volume counts it.",
					DurationWords(gap), a, b)})
		}
	}
	return out
}

// pronoun picks the singular or the plural form by n.
func pronoun(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
