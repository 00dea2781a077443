package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pmezard/go-difflib/difflib"

	"gatewise/memo"
	"gatewise/server/store"
	"gatewise/simulator"
)

// ComparePage sets two finished runs side by side: what changed in the
// inputs (run options, traffic, the architecture file), and how the answer
// moved (scores, failures, cost).
type ComparePage struct {
	Layout
	// Choices are the user's finished runs, by name and date, for both
	// pickers; SelectedA and SelectedB are the runs the pickers show.
	Choices              []RunChoice
	SelectedA, SelectedB string
	// A and B are set once both runs are picked.
	A, B         store.Run
	NameA, NameB string
	Decision     [2]string // each memo's decision line
	// Changes names what differs between the runs' inputs, in a line.
	Changes string
	// Options and Traffic are the run options and the traffic source,
	// each a line per setting with both runs' values.
	Options []CompareLine
	Traffic []CompareLine
	// Weights are each run's priorities, normalised as scored.
	Weights [2]string
	// Scores are every option's overall and corner scores in both runs;
	// ScoreNotes say why a run has none.
	Scores     []ScoreRow
	ScoreNotes []string
	// Excluded says why a hard constraint rules an option out, by run.
	Excluded []string
	Rows     []CompareRow
	// InputLines is the architecture files' YAML, aligned line by line.
	InputLines    []DiffLine
	InputsChanged bool
}

// RunChoice is one finished run in a picker: "name · date · chosen option ·
// trials", so a user knows the run without its id.
type RunChoice struct {
	ID, Label string
}

// CompareLine is one setting of both runs.
type CompareLine struct {
	Label, A, B string
	Changed     bool
	// Note says why values that differ are not a change: synthetic
	// traffic drawn with another seed from the same traffic block.
	Note string
	// sampled marks a figure of synthetic traffic, which the seed draws.
	sampled bool
}

// ScoreRow is one option's scores in both runs, 0–100.
type ScoreRow struct {
	Gateway                                string
	Chosen                                 string // "A", "B", "both" or ""
	Overall, Failover, Cost, Observability ScoreCell
	Note                                   string // "excluded in A", "not compared in B"
}

// ScoreCell is one score in both runs and its change; A or B is "—" when
// the option was not scored in that run, and Delta then is empty.
type ScoreCell struct {
	Label       string // the score's name, shown beside it on a phone
	A, B, Delta string
	Moved       bool // the change shows at one decimal
}

// DiffLine is one line of the two architectures' YAML, marked when it
// differs.
type DiffLine struct {
	A, B    string
	Changed bool
}

// CompareRow is one option in one scenario in both runs.
type CompareRow struct {
	Scenario, Gateway      string
	SuccessA, SuccessB     string
	FailedA, FailedB       string
	CostA, CostB           string
	FailedDelta, CostDelta string
}

// maxChoices bounds the pickers: the newest finished runs, which is what a
// user compares.
const maxChoices = 100

// compareRuns shows /runs/compare: with a and b (run ids, as the pickers
// send them) the two runs side by side; with one or none, the pickers.
func (s *Server) compareRuns(c *gin.Context) {
	ctx := c.Request.Context()
	page := ComparePage{Layout: Layout{Title: "Compare runs", Nav: "runs", Version: s.cfg.Version}}
	var picked []store.Run
	for _, key := range []string{"a", "b"} {
		id := c.Query(key)
		if id == "" {
			continue
		}
		r, err := s.finished(ctx, id)
		if err != nil {
			s.fail(c, err)
			return
		}
		picked = append(picked, r)
	}
	finished, err := s.store.FinishedRuns(ctx, maxChoices)
	if err != nil {
		s.fail(c, err)
		return
	}
	// A picked run older than the newest ones still shows in its picker.
	for _, r := range picked {
		if !slices.ContainsFunc(finished, func(f store.Run) bool { return f.ID == r.ID }) {
			finished = append(finished, r)
		}
	}
	names, err := s.runNames(ctx, finished)
	if err != nil {
		s.fail(c, err)
		return
	}
	page.Choices = runChoices(finished, names)
	page.SelectedA, page.SelectedB = defaultPicks(c.Query("a"), c.Query("b"), finished)
	if c.Query("a") == "" || c.Query("b") == "" {
		s.render(c, http.StatusOK, "run_compare", page)
		return
	}
	a, b := picked[0], picked[1]
	page.A, page.B = a, b
	page.NameA, page.NameB = names[a.ID], names[b.ID]
	page.Title = "Compare runs of " + page.NameA
	if page.NameB != page.NameA {
		page.Title += " and " + page.NameB
	}
	va, err := s.comparedRun(ctx, a)
	if err != nil {
		s.fail(c, err)
		return
	}
	vb, err := s.comparedRun(ctx, b)
	if err != nil {
		s.fail(c, err)
		return
	}
	page.Decision = [2]string{decisionLine(a.Memo), decisionLine(b.Memo)}
	page.Options = compareLines(va.options(), vb.options())
	page.Traffic = compareTraffic(va, vb)
	page.Scores, page.ScoreNotes, page.Excluded = compareScores(va, vb)
	for i, v := range []comparedRun{va, vb} {
		if v.scoreErr == nil {
			page.Weights[i] = weightsText(v.decision.Weights)
		}
	}
	page.InputLines = inputDiff(va.yaml, vb.yaml)
	changedLines := 0
	for _, l := range page.InputLines {
		if l.Changed {
			changedLines++
		}
	}
	page.InputsChanged = changedLines > 0
	page.Changes = changes(page.Options, page.Traffic, changedLines)
	page.Rows = compareResults(va.result, vb.result)
	s.render(c, http.StatusOK, "run_compare", page)
}

func (s *Server) finished(ctx context.Context, id string) (store.Run, error) {
	r, err := s.store.Run(ctx, id)
	if err != nil {
		return r, err
	}
	if r.Status != store.RunDone {
		return r, newError(http.StatusConflict, "Run "+id+" has not finished: it is "+r.Status+". Compare it once it is done.", nil)
	}
	return r, nil
}

// runNames names each run by its architecture as it is called now, or, if
// it was deleted, as the run's memo calls it.
func (s *Server) runNames(ctx context.Context, runs []store.Run) (map[string]string, error) {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ArchitectureID
	}
	arch, err := s.store.ArchitectureNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range runs {
		name := arch[r.ArchitectureID]
		if name == "" {
			if fm, _ := memo.SplitFrontMatter([]byte(r.Memo)); fm.Title != "" {
				name = fm.Title + " (deleted architecture)"
			} else {
				name = "(deleted architecture)"
			}
		}
		out[r.ID] = name
	}
	return out, nil
}

// runChoices labels each finished run "name · date · chosen · trials"; two
// runs that would read the same also show their ids.
func runChoices(runs []store.Run, names map[string]string) []RunChoice {
	out := make([]RunChoice, len(runs))
	seen := map[string]int{}
	for i, r := range runs {
		fm, _ := memo.SplitFrontMatter([]byte(r.Memo))
		trials := fm.Trials
		if trials == 0 {
			trials = r.Total
		}
		chosen := memoChoice(r.Memo)
		if chosen == "" {
			chosen = "no decision recorded"
		}
		label := fmt.Sprintf("%s · %s · %s · %s %s", names[r.ID], r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), chosen, number(trials), plural(trials, "trial", "trials"))
		out[i] = RunChoice{ID: r.ID, Label: label}
		seen[label]++
	}
	for i := range out {
		if seen[out[i].Label] > 1 {
			out[i].Label += " · run " + out[i].ID
		}
	}
	return out
}

// defaultPicks is what the pickers show: the runs asked for, else the
// newest finished run as A and the newest other one as B.
func defaultPicks(a, b string, runs []store.Run) (string, string) {
	if a == "" && len(runs) > 0 {
		a = runs[0].ID
		if b == a && len(runs) > 1 {
			a = runs[1].ID
		}
	}
	if b == "" {
		for _, r := range runs {
			if r.ID != a {
				b = r.ID
				break
			}
		}
	}
	return a, b
}

// memoChoice is the option a memo recommends, from its decision line:
// "direct", or "kong (tied)" when the memo leans to it among tied ones.
func memoChoice(md string) string {
	line := decisionLine(md)
	if rest, ok := strings.CutPrefix(line, "Chosen: "); ok {
		id, _, _ := strings.Cut(rest, ",")
		return strings.TrimSpace(id)
	}
	if _, rest, ok := strings.Cut(line, "Leaning to "); ok {
		id, _, _ := strings.Cut(rest, " ")
		return id + " (tied)"
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// comparedRun is a finished run decoded for comparison, scored as its memo
// was.
type comparedRun struct {
	run      store.Run
	opts     RunOptions
	spec     simulator.Spec
	specErr  error
	yaml     []string
	result   simulator.Result
	decision memo.Decision
	scoreErr error
	// priceFile and upload name the run's price file and log, as kept.
	priceFile, upload string
}

func (s *Server) comparedRun(ctx context.Context, run store.Run) (comparedRun, error) {
	v := comparedRun{run: run}
	if err := json.Unmarshal(run.Options, &v.opts); err != nil {
		return v, fmt.Errorf("run %s: its options do not decode: %w", run.ID, err)
	}
	if err := json.Unmarshal(run.Result, &v.result); err != nil {
		return v, fmt.Errorf("run %s: its result does not decode: %w", run.ID, err)
	}
	v.spec, v.specErr = runSpec(ctx, s.store, run)
	if v.specErr == nil {
		if data, err := v.spec.YAML(); err == nil {
			v.yaml = strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		}
	}
	cat := s.catalog
	if id := v.opts.PriceFileID; id != "" {
		v.priceFile = "a price file gatewise no longer has"
		if pf, err := s.store.PriceFile(ctx, id); err == nil {
			v.priceFile = pf.Name + " (" + pf.Format + ")"
			if o, err := runCatalog(ctx, s.store, cat, run, v.opts); err == nil {
				cat = o // a file that no longer reads leaves the catalog's prices
			}
		}
	}
	if id := v.opts.UploadID; id != "" {
		v.upload = "an uploaded log gatewise no longer has"
		if up, err := s.store.Upload(ctx, id); err == nil {
			v.upload = up.Name
		}
	}
	switch {
	case v.specErr != nil:
		v.scoreErr = v.specErr
	default:
		v.decision, v.scoreErr = memo.Score(v.spec, v.result, cat)
	}
	return v, nil
}

// options are the run's options as simulated, a line each.
func (v comparedRun) options() []CompareLine {
	res := v.result
	scenarios := distinct(res.Results, func(r simulator.OptionResult) string { return r.Scenario })
	gateways := distinct(res.Results, func(r simulator.OptionResult) string { return r.Gateway })
	narrowed := func(asked []string) string {
		if len(asked) > 0 {
			return " (chosen for this run)"
		}
		return ""
	}
	price := "none: the built-in catalog"
	if v.priceFile != "" {
		price = v.priceFile
	}
	upload := "none"
	if v.upload != "" {
		upload = v.upload
	}
	return []CompareLine{
		{Label: "Trials", A: number(res.Trials)},
		{Label: "Seed", A: strconv.FormatUint(res.Seed, 10)},
		{Label: "Scenarios", A: strings.Join(scenarios, ", ") + narrowed(v.opts.Scenarios)},
		{Label: "Options compared", A: strings.Join(gateways, ", ") + narrowed(v.opts.Gateways)},
		{Label: "Price file", A: price},
		{Label: "Prices as of", A: res.CatalogAsOf},
		{Label: "Uploaded log", A: upload},
	}
}

// traffic is where the run's traffic came from, a line each. A run stored
// before results recorded it says what is known: without an upload it
// replayed the architecture's synthetic traffic; with one, only the log's
// name is known.
func (v comparedRun) traffic() []CompareLine {
	t := v.result.Traffic
	const notRecorded = "not recorded (the run predates gatewise recording it)"
	perDay := t.RequestsPerDay
	if perDay <= 0 {
		perDay = v.result.RequestsPerDay
	}
	if perDay <= 0 && v.specErr == nil && v.opts.UploadID == "" {
		perDay = v.spec.Traffic.RequestsPerDay
	}
	replayed := notRecorded
	if perDay > 0 {
		replayed = requestsPerDay(perDay)
	}
	synthetic := v.synthetic()
	routes, origins := sharesText(t.Routes), sharesText(t.Origins)
	if synthetic {
		// Synthetic traffic follows the file's shares when the result
		// does not list them.
		if routes == "" && v.specErr == nil {
			var rs []simulator.Share
			for _, r := range v.spec.Routes {
				rs = append(rs, simulator.Share{Name: r.Name, Share: r.Share})
			}
			routes = sharesText(rs)
		}
		if origins == "" && v.specErr == nil {
			var ors []simulator.Share
			for _, o := range slices.Sorted(maps.Keys(v.spec.Traffic.Origin)) {
				ors = append(ors, simulator.Share{Name: o, Share: v.spec.Traffic.Origin[o]})
			}
			origins = sharesText(ors)
		}
	}
	if routes == "" {
		routes = notRecorded
	}
	if origins == "" {
		origins = notRecorded
	}
	lines := func(source, logged, rows, span, filled, uses, ignores string) []CompareLine {
		return []CompareLine{
			{Label: "Source", A: source},
			{Label: "Requests a day, as replayed", A: replayed, sampled: synthetic},
			{Label: "Requests by route", A: routes, sampled: synthetic},
			{Label: "Requests by origin", A: origins, sampled: synthetic},
			{Label: "Requests a day, as logged", A: logged},
			{Label: "Log rows", A: rows},
			{Label: "Span", A: span},
			{Label: "Filling the horizon", A: filled},
			{Label: "Log figures used", A: uses},
			{Label: "Log figures not used", A: ignores},
		}
	}
	const fromBlock = "synthetic, from the architecture's traffic block"
	switch {
	case t.Kind == "" && v.opts.UploadID == "":
		return lines(fromBlock, "—", "—", notRecorded, notRecorded, "—", "—")
	case t.Kind == "":
		return lines("the uploaded log "+v.upload, notRecorded, notRecorded, notRecorded, notRecorded, notRecorded, notRecorded)
	case t.Kind != simulator.TrafficLog:
		return lines(fromBlock, "—", "—", spanText(t.SpanHours), filledText(t.Filled), "—", "—")
	case t.Log == nil:
		return lines("an uploaded log, not described in the result", notRecorded, notRecorded, spanText(t.SpanHours), filledText(t.Filled), listOrNone(t.Uses), listOrNone(t.Ignores))
	}
	l := t.Log
	source := "the log " + l.File
	if l.Format != "" {
		source += " (" + l.Format + ")"
	}
	rows := fmt.Sprintf("%s used of %s read, %s skipped", number(l.RowsUsed), number(l.RowsRead), number(l.RowsSkipped))
	span := spanText(t.SpanHours)
	if !l.Start.IsZero() && !l.End.IsZero() {
		span = l.Start.UTC().Format("2006-01-02 15:04") + " to " + l.End.UTC().Format("2006-01-02 15:04 UTC") + ", " + span
	}
	logged := "—"
	if l.RequestsPerDay > 0 {
		logged = requestsPerDay(l.RequestsPerDay)
	}
	return lines(source, logged, rows, span, filledText(t.Filled), listOrNone(t.Uses), listOrNone(t.Ignores))
}

// sharesText writes shares of requests as "chat 80 %, summarize 20 %".
func sharesText(shares []simulator.Share) string {
	parts := make([]string, len(shares))
	for i, sh := range shares {
		parts[i] = sh.Name + " " + percent(math.Round(sh.Share*1000)/1000)
	}
	return strings.Join(parts, ", ")
}

func filledText(filled string) string {
	if filled == "" {
		return "none needed: the traffic spans the horizon"
	}
	return filled
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// requestsPerDay rounds a daily volume to what it means: whole requests
// from a hundred up, a tenth below.
func requestsPerDay(v float64) string {
	if v >= 100 {
		return formatNumber(math.Round(v))
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// spanText writes a span of hours as the run page does: "45 min", "1 h",
// "36 h", "12 days".
func spanText(h float64) string {
	switch {
	case h <= 0:
		return "not recorded"
	case h < 1:
		return strconv.Itoa(int(math.Round(h*60))) + " min"
	case h < 48:
		return strconv.FormatFloat(math.Round(h*10)/10, 'f', -1, 64) + " h"
	}
	return strconv.FormatFloat(math.Round(h/24*10)/10, 'f', -1, 64) + " days"
}

// synthetic reports whether the run drew its traffic from the
// architecture's traffic block: so its result says, or, for a run stored
// before results said, it had no uploaded log.
func (v comparedRun) synthetic() bool {
	if k := v.result.Traffic.Kind; k != "" {
		return k == simulator.TrafficSynthetic
	}
	return v.opts.UploadID == ""
}

// compareTraffic pairs the runs' traffic. Synthetic traffic is drawn with
// the seed, so two runs of the same traffic block with other seeds replay
// slightly different volumes and mixes: those differences are noted as the
// seed's, not marked as a change of traffic.
func compareTraffic(a, b comparedRun) []CompareLine {
	out := compareLines(a.traffic(), b.traffic())
	if !a.synthetic() || !b.synthetic() || a.result.Seed == b.result.Seed || a.specErr != nil || b.specErr != nil {
		return out
	}
	if !sameTrafficBlock(a.spec, b.spec) {
		return out
	}
	for i, l := range out {
		if l.Changed && l.sampled {
			out[i].Changed = false
			out[i].Note = "drawn with another seed"
		}
	}
	return out
}

// sameTrafficBlock reports whether two architectures ask for the same
// synthetic traffic: the traffic block and the routes' shares.
func sameTrafficBlock(a, b simulator.Spec) bool {
	ja, errA := json.Marshal(a.Traffic)
	jb, errB := json.Marshal(b.Traffic)
	if errA != nil || errB != nil || !bytes.Equal(ja, jb) || len(a.Routes) != len(b.Routes) {
		return false
	}
	for i := range a.Routes {
		if a.Routes[i].Name != b.Routes[i].Name || a.Routes[i].Share != b.Routes[i].Share {
			return false
		}
	}
	return true
}

// compareLines pairs two runs' lines of the same labels.
func compareLines(a, b []CompareLine) []CompareLine {
	out := make([]CompareLine, len(a))
	for i := range a {
		out[i] = CompareLine{Label: a[i].Label, A: a[i].A, B: b[i].A, Changed: a[i].A != b[i].A, sampled: a[i].sampled && b[i].sampled}
	}
	return out
}

func distinct[T any](xs []T, key func(T) string) []string {
	var out []string
	for _, x := range xs {
		if k := key(x); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// compareScores lists each option's scores in both runs: A's options best
// first, then those only B compared. A run that cannot be scored gets a
// note instead; an option a hard constraint rules out, the reason.
func compareScores(a, b comparedRun) (rows []ScoreRow, notes, excluded []string) {
	for _, v := range []struct {
		name string
		run  comparedRun
	}{{"A", a}, {"B", b}} {
		if v.run.scoreErr != nil {
			notes = append(notes, fmt.Sprintf("Run %s has no scores: %s.", v.name, strings.TrimPrefix(v.run.scoreErr.Error(), "memo: ")))
		}
	}
	var order []string
	for _, v := range []comparedRun{a, b} {
		for _, o := range v.decision.Options {
			if !slices.Contains(order, o.Gateway) {
				order = append(order, o.Gateway)
			}
		}
		for _, e := range v.decision.Excluded {
			if !slices.Contains(order, e.Gateway) {
				order = append(order, e.Gateway)
			}
		}
	}
	for _, id := range order {
		oa, inA := a.decision.Option(id)
		ob, inB := b.decision.Option(id)
		row := ScoreRow{Gateway: id,
			Overall:       scoreCell("Overall", oa.Overall, ob.Overall, inA, inB),
			Failover:      scoreCell("Failover", oa.Failover, ob.Failover, inA, inB),
			Cost:          scoreCell("Cost", oa.Cost, ob.Cost, inA, inB),
			Observability: scoreCell("Observability", oa.Observability, ob.Observability, inA, inB),
		}
		switch ca, cb := a.decision.Chosen == id, b.decision.Chosen == id; {
		case ca && cb:
			row.Chosen = "both"
		case ca:
			row.Chosen = "A"
		case cb:
			row.Chosen = "B"
		}
		var short []string
		reasons := [2]string{}
		for i, v := range []struct {
			name   string
			run    comparedRun
			scored bool
		}{{"A", a, inA}, {"B", b, inB}} {
			if v.scored || v.run.scoreErr != nil {
				continue
			}
			if j := slices.IndexFunc(v.run.decision.Excluded, func(e memo.Exclusion) bool { return e.Gateway == id }); j >= 0 {
				short = append(short, "excluded in "+v.name)
				reasons[i] = v.run.decision.Excluded[j].Reason
			} else {
				short = append(short, "not compared in "+v.name)
			}
		}
		switch {
		case reasons[0] != "" && reasons[0] == reasons[1]:
			row.Note = "excluded in both"
			excluded = append(excluded, fmt.Sprintf("%s, in both runs: %s.", id, reasons[0]))
		case reasons[0] != "" && reasons[1] != "":
			row.Note = "excluded in both"
			excluded = append(excluded, fmt.Sprintf("%s, in A: %s; in B: %s.", id, reasons[0], reasons[1]))
		default:
			row.Note = strings.Join(short, ", ")
			for i, r := range reasons {
				if r != "" {
					excluded = append(excluded, fmt.Sprintf("%s, in %s: %s.", id, "AB"[i:i+1], r))
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, notes, excluded
}

func scoreCell(label string, a, b float64, inA, inB bool) ScoreCell {
	c := ScoreCell{Label: label, A: "—", B: "—"}
	if inA {
		c.A = strconv.FormatFloat(a, 'f', 1, 64)
	}
	if inB {
		c.B = strconv.FormatFloat(b, 'f', 1, 64)
	}
	if inA && inB {
		c.Delta, c.Moved = signedScore(b - a)
	}
	return c
}

// signedScore writes a change of score at the memo's precision, one
// decimal, with its sign: +2.8, −0.4, 0.
func signedScore(d float64) (string, bool) {
	r := math.Round(d*10) / 10
	switch {
	case r > 0:
		return "+" + strconv.FormatFloat(r, 'f', 1, 64), true
	case r < 0:
		return "−" + strconv.FormatFloat(-r, 'f', 1, 64), true
	}
	return "0", false
}

// weightsText is the priorities as scored: "failover 50 %, cost 30 %,
// observability 20 %".
func weightsText(w simulator.Priorities) string {
	return "failover " + percent(w.Failover) + ", cost " + percent(w.Cost) + ", observability " + percent(w.Observability)
}

// changes says in a line what differs between the two runs' inputs.
func changes(options, traffic []CompareLine, fileLines int) string {
	phrase := map[string]string{"Price file": "the price file", "Prices as of": "the prices' date", "Uploaded log": "the uploaded log"}
	var what []string
	for _, l := range options {
		if !l.Changed {
			continue
		}
		if p, ok := phrase[l.Label]; ok {
			what = append(what, p)
		} else {
			what = append(what, strings.ToLower(l.Label[:1])+l.Label[1:])
		}
	}
	if slices.ContainsFunc(traffic, func(l CompareLine) bool { return l.Changed }) {
		what = append(what, "the traffic")
	}
	switch fileLines {
	case 0:
	case 1:
		what = append(what, "one line of the architecture file")
	default:
		what = append(what, number(fileLines)+" lines of the architecture file")
	}
	if len(what) == 0 {
		return "Nothing differs: the same run options, traffic and architecture file."
	}
	return "What differs: " + joinWords(what) + "."
}

// joinWords lists words as a sentence does: "a, b and c".
func joinWords(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// inputDiff aligns the canonical YAML of the architectures the two runs
// simulated (as each kept it, not as it is now) with a line matcher, so an
// added provider shows as added lines rather than shifting every line
// after it.
func inputDiff(la, lb []string) []DiffLine {
	var out []DiffLine
	for _, op := range difflib.NewMatcher(la, lb).GetOpCodes() {
		if op.Tag == 'e' {
			for i := op.I1; i < op.I2; i++ {
				out = append(out, DiffLine{A: la[i], B: la[i]})
			}
			continue
		}
		// A replaced, deleted or inserted block: pair its lines side by side.
		n := max(op.I2-op.I1, op.J2-op.J1)
		for k := 0; k < n; k++ {
			d := DiffLine{Changed: true}
			if op.I1+k < op.I2 {
				d.A = la[op.I1+k]
			}
			if op.J1+k < op.J2 {
				d.B = lb[op.J1+k]
			}
			out = append(out, d)
		}
	}
	return out
}

// decisionLine is the memo's decision sentence.
func decisionLine(md string) string {
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "**Chosen:") || strings.HasPrefix(line, "**No single winner") {
			return strings.ReplaceAll(line, "**", "")
		}
	}
	return ""
}

// compareResults pairs each option and scenario of two results.
func compareResults(ra, rb simulator.Result) []CompareRow {
	type key struct{ scenario, gateway string }
	other := map[key]simulator.OptionResult{}
	for _, r := range rb.Results {
		other[key{r.Scenario, r.Gateway}] = r
	}
	var out []CompareRow
	for _, x := range ra.Results {
		y, ok := other[key{x.Scenario, x.Gateway}]
		if !ok || x.Excluded != nil || y.Excluded != nil {
			continue
		}
		out = append(out, CompareRow{
			Scenario: x.Scenario, Gateway: x.Gateway,
			SuccessA: fmt.Sprintf("%.3f %%", x.SuccessRate.Mean*100), SuccessB: fmt.Sprintf("%.3f %%", y.SuccessRate.Mean*100),
			FailedA: formatNumber(roundTo(x.FailedRequests.Mean)), FailedB: formatNumber(roundTo(y.FailedRequests.Mean)),
			CostA: "$" + formatNumber(roundTo(x.CostUSD.Total.P50)), CostB: "$" + formatNumber(roundTo(y.CostUSD.Total.P50)),
			FailedDelta: signed(y.FailedRequests.Mean-x.FailedRequests.Mean, ""),
			CostDelta:   signed(y.CostUSD.Total.P50-x.CostUSD.Total.P50, "$"),
		})
	}
	return out
}

// signed writes a change with its sign before the unit: +$50, −12.
func signed(v float64, unit string) string {
	if v >= 0.5 {
		return "+" + unit + formatNumber(roundTo(v))
	}
	if v <= -0.5 {
		return "−" + unit + formatNumber(roundTo(-v))
	}
	return unit + "0"
}
