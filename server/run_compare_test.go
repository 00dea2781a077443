package server

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gatewise/memo"
	"gatewise/server/store"
	"gatewise/simulator"
)

// runArchitecture starts a run of an architecture from its page and waits for it.
func runArchitecture(t *testing.T, s *Server, h http.Handler, id string) string {
	t.Helper()
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}})
	wantStatus(t, rec, http.StatusSeeOther)
	m := runLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("Location %q", rec.Header().Get("Location"))
	}
	if run := waitFor(t, s, m[1], store.RunDone, store.RunFailed); run.Status != store.RunDone {
		t.Fatalf("run = %+v", run)
	}
	return m[1]
}

// simulated queues a run and simulates it in the test, as a worker would,
// one at a time so no worker is needed; edit, when set, changes the result
// before it is kept, to stand for a run an older gatewise stored or for a
// traffic source the test states exactly.
func simulated(t *testing.T, s *Server, arch string, opts RunOptions, edit func(*simulator.Result)) store.Run {
	t.Helper()
	ctx := context.Background()
	queued, err := s.queueRun(ctx, arch, opts)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := s.store.ClaimRun(ctx)
	if err != nil || claimed.ID != queued.ID {
		t.Fatalf("claimed %q (%v), want %q", claimed.ID, err, queued.ID)
	}
	data, md, sum, err := s.queue.(*Runner).simulate(ctx, claimed)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var res simulator.Result
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatal(err)
		}
		edit(&res)
		if data, err = json.Marshal(res); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.FinishRun(ctx, claimed.ID, data, md, sum); err != nil {
		t.Fatal(err)
	}
	run, err := s.store.Run(ctx, claimed.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// scored is a stored run's decision, as the memo scored it.
func scored(t *testing.T, s *Server, run store.Run) memo.Decision {
	t.Helper()
	spec, err := runSpec(context.Background(), s.store, run)
	if err != nil {
		t.Fatal(err)
	}
	var res simulator.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		t.Fatal(err)
	}
	d, err := memo.Score(spec, res, s.catalog)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// scoreRowHTML is an option's row of the scores table as the page writes
// it: A → B (change) for overall, failover, cost and observability.
func scoreRowHTML(a, b memo.OptionScore, tag string) string {
	cell := func(label string, x, y float64) string {
		d := fmt.Sprintf("%.1f", y-x)
		switch {
		case d == "0.0" || d == "-0.0":
			d = "0"
		case strings.HasPrefix(d, "-"):
			d = "−" + d[1:]
		default:
			d = "&#43;" + d // html/template escapes +
		}
		return fmt.Sprintf(`<td class="num" data-label="%s">%.1f → %.1f <span`, label, x, y) + map[bool]string{true: "", false: ` class="moved"`}[d == "0"] + ">(" + d + ")</span></td>"
	}
	return `<th scope="row">` + a.Gateway + tag + "</th>\n    " +
		cell("Overall", a.Overall, b.Overall) + cell("Failover", a.Failover, b.Failover) + cell("Cost", a.Cost, b.Cost) + cell("Observability", a.Observability, b.Observability)
}

// replayed is a run's daily volume as simulated, rounded to whole requests.
func replayed(t *testing.T, run store.Run) string {
	t.Helper()
	var res simulator.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		t.Fatal(err)
	}
	return formatNumber(math.Round(res.RequestsPerDay))
}

func pickerLabel(name string, run store.Run, chosen string, trials int) string {
	return fmt.Sprintf(`<option value="%s" selected>%s · %s · %s · %d trials</option>`, run.ID, name, run.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), chosen, trials)
}

// A user doubles the traffic, runs again, and compares the two runs: the
// pickers name the runs, the traffic and the file show what changed, the
// scores how the answer moved.
func TestCompareRuns(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	spec := loadExample(t, "single-provider")
	name := spec.Name
	a := simulated(t, s, create(t, h, spec), RunOptions{Trials: 40}, nil)
	spec.Name += " (double traffic)"
	spec.Traffic.RequestsPerDay *= 2
	b := simulated(t, s, create(t, h, spec), RunOptions{Trials: 40}, nil)

	wantBody(t, do(t, h, "GET", "/runs/"+a.ID, nil, nil), `href="/runs/compare?a=`+a.ID+`"`)

	// From a run's page: A is that run, B the newest other one.
	pick := do(t, h, "GET", "/runs/compare?a="+a.ID, nil, nil)
	wantStatus(t, pick, http.StatusOK)
	wantBody(t, pick, pickerLabel(name, a, "direct", 40), pickerLabel(spec.Name, b, "direct", 40))

	page := do(t, h, "GET", "/runs/compare?a="+a.ID+"&b="+b.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	da, db := scored(t, s, a), scored(t, s, b)
	directA, _ := da.Option("direct")
	directB, _ := db.Option("direct")
	kongA, _ := da.Option("kong")
	kongB, _ := db.Option("kong")
	wantBody(t, page,
		"<strong>What differs: the traffic and 2 lines of the architecture file.</strong>",
		"Chosen: direct",
		`<tr><th scope="row">Trials</th><td>40</td><td>40</td></tr>`,
		`<tr class="changed"><th scope="row">Requests a day, as replayed <span class="tag">changed</span></th><td>`+replayed(t, a)+`</td><td>`+replayed(t, b)+`</td></tr>`,
		scoreRowHTML(directA, directB, ` <span class="tag">chosen in both</span>`),
		scoreRowHTML(kongA, kongB, ""),
		`<tr class="changed"><td><code>  requests_per_day: 2000</code></td><td><code>  requests_per_day: 4000</code>`,
		"&#43;$", // doubling traffic raises every option's cost
	)
}

// A change of priorities alone moves only the overall score: the corners
// come from the same simulation and show no change, the overall does.
func TestCompareWeightsOnly(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	spec := loadExample(t, "single-provider")
	a := simulated(t, s, create(t, h, spec), RunOptions{Trials: 40}, nil)
	spec.Priorities = simulator.Priorities{Failover: 0.6, Cost: 0.2, Observability: 0.2}
	b := simulated(t, s, create(t, h, spec), RunOptions{Trials: 40}, nil)

	page := do(t, h, "GET", "/runs/compare?a="+a.ID+"&b="+b.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `<tr class="changed"><th scope="row">Priorities <span class="tag">changed</span></th><td>failover 20 %, cost 60 %, observability 20 %</td><td>failover 60 %, cost 20 %, observability 20 %</td></tr>`)
	da, db := scored(t, s, a), scored(t, s, b)
	moved := 0
	for _, oa := range da.Options {
		ob, ok := db.Option(oa.Gateway)
		if !ok {
			t.Fatalf("%s is scored in A only", oa.Gateway)
		}
		if oa.Failover != ob.Failover || oa.Cost != ob.Cost || oa.Observability != ob.Observability {
			t.Errorf("%s: corners moved with the weights alone: %+v against %+v", oa.Gateway, oa, ob)
		}
		tag := ""
		if oa.Gateway == "direct" {
			tag = ` <span class="tag">chosen in both</span>`
		}
		wantBody(t, page, scoreRowHTML(oa, ob, tag))
		if fmt.Sprintf("%.1f", oa.Overall) != fmt.Sprintf("%.1f", ob.Overall) {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no overall score moved with the weights")
	}
	if got := strings.Count(page.Body.String(), `<span class="moved">`); got != moved {
		t.Errorf("%d changes shown as moved, want the %d overall scores that moved", got, moved)
	}
}

// The run options are a table of what each run simulated, the changes
// marked; an option one run did not compare says so.
func TestCompareRunOptions(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	a := simulated(t, s, arch, RunOptions{Trials: 40}, nil)
	b := simulated(t, s, arch, RunOptions{Trials: 60, Seed: 11, Scenarios: []string{"baseline"}, Gateways: []string{"direct", "portkey"}}, nil)

	page := do(t, h, "GET", "/runs/compare?a="+a.ID+"&b="+b.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	changed := func(label, x, y string) string {
		return `<tr class="changed"><th scope="row">` + label + ` <span class="tag">changed</span></th><td>` + x + `</td><td>` + y + `</td></tr>`
	}
	sampled := func(label, x, y string) string {
		return `<tr><th scope="row">` + label + ` <span class="hint">(drawn with another seed)</span></th><td>` + x + `</td><td>` + y + `</td></tr>`
	}
	wantBody(t, page,
		"<strong>What differs: trials, seed, scenarios and options compared.</strong>",
		sampled("Requests a day, as replayed", replayed(t, a), replayed(t, b)),
		"Nothing: both runs simulated the same architecture file.",
		changed("Trials", "40", "60"),
		changed("Seed", "7", "11"),
		changed("Scenarios", "baseline, provider-outage", "baseline (chosen for this run)"),
		changed("Options compared", "direct, openrouter, portkey, helicone, litellm, kong, cloudflare", "direct, portkey (chosen for this run)"),
		`<tr><th scope="row">Price file</th><td>none: the built-in catalog</td><td>none: the built-in catalog</td></tr>`,
		`<tr><th scope="row">Uploaded log</th><td>none</td><td>none</td></tr>`,
		`<th scope="row">kong <span class="hint">not compared in B</span></th>`,
	)
	ka, _ := scored(t, s, a).Option("kong")
	wantBody(t, page, fmt.Sprintf(`<td class="num" data-label="Overall">%.1f → —</td>`, ka.Overall))
}

// The traffic each run replayed, side by side: a log's name, rows, span,
// how it filled the horizon and which of its figures the run uses, against
// synthetic traffic; runs stored before results recorded their traffic say
// what is known and that the rest was not recorded.
func TestCompareTrafficSource(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	rec := upload(t, h, "/architectures/"+arch+"/uploads", map[string]string{"format": "csv", "map": logMap}, logCSV())
	wantStatus(t, rec, http.StatusSeeOther)
	up := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")

	older := func(r *simulator.Result) { r.Traffic = simulator.TrafficSource{} }
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	logged := func(r *simulator.Result) {
		r.Traffic = simulator.TrafficSource{Kind: simulator.TrafficLog, SpanHours: 59.0 / 60, Filled: "repeated 732 times to fill 30 days",
			RequestsPerDay: 1464, Routes: []simulator.Share{{Name: "chat", Share: 1}}, Origins: []simulator.Share{{Name: "us", Share: 1}},
			Uses: []string{"timestamps", "models", "tokens"}, Ignores: []string{"error rates", "latency"},
			Log: &simulator.LogSource{File: "spend.csv", Format: "csv", RowsRead: 61, RowsUsed: 60, RowsSkipped: 1,
				Start: start, End: start.Add(59 * time.Minute), RequestsPerDay: 1464.4}}
	}
	synth := simulated(t, s, arch, RunOptions{Trials: 30}, older)
	fromLog := simulated(t, s, arch, RunOptions{Trials: 30, UploadID: up}, logged)
	oldLog := simulated(t, s, arch, RunOptions{Trials: 30, UploadID: up}, older)

	row := func(label, x, y string) string {
		return `<tr class="changed"><th scope="row">` + label + ` <span class="tag">changed</span></th><td>` + x + `</td><td>` + y + `</td></tr>`
	}
	const notRecorded = "not recorded (the run predates gatewise recording it)"
	page := do(t, h, "GET", "/runs/compare?a="+synth.ID+"&b="+fromLog.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page,
		"<strong>What differs: the uploaded log and the traffic.</strong>",
		`<tr><th scope="row">Requests by origin</th><td>us 100 %</td><td>us 100 %</td></tr>`,
		row("Uploaded log", "none", "spend.csv"),
		row("Source", "synthetic, from the architecture&#39;s traffic block", "the log spend.csv (csv)"),
		row("Requests a day, as replayed", replayed(t, synth), "1,464"),
		row("Requests a day, as logged", "—", "1,464"),
		row("Log rows", "—", "60 used of 61 read, 1 skipped"),
		row("Span", notRecorded, "2026-11-02 09:00 to 2026-11-02 09:59 UTC, 59 min"),
		row("Filling the horizon", notRecorded, "repeated 732 times to fill 30 days"),
		row("Log figures used", "—", "timestamps, models, tokens"),
		row("Log figures not used", "—", "error rates, latency"),
	)

	page = do(t, h, "GET", "/runs/compare?a="+fromLog.ID+"&b="+oldLog.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page,
		`<tr><th scope="row">Uploaded log</th><td>spend.csv</td><td>spend.csv</td></tr>`,
		row("Source", "the log spend.csv (csv)", "the uploaded log spend.csv"),
		row("Log rows", "60 used of 61 read, 1 skipped", notRecorded),
		row("Log figures not used", "error rates, latency", notRecorded),
	)
}

// Lifting a hard constraint brings options back: the scores table says
// which were excluded in which run, and why, under the table.
func TestCompareExcludedOptions(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	spec := loadExample(t, "multi-region")
	a := simulated(t, s, create(t, h, spec), RunOptions{Trials: 20}, nil)
	spec.Compliance.SOC2 = false
	b := simulated(t, s, create(t, h, spec), RunOptions{Trials: 20}, nil)

	page := do(t, h, "GET", "/runs/compare?a="+a.ID+"&b="+b.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	da, db := scored(t, s, a), scored(t, s, b)
	back, both := 0, 0
	for _, e := range da.Excluded {
		ob, ok := db.Option(e.Gateway)
		if !ok {
			if i := slices.IndexFunc(db.Excluded, func(x memo.Exclusion) bool { return x.Gateway == e.Gateway }); i >= 0 && db.Excluded[i].Reason == e.Reason {
				both++
				wantBody(t, page, `<th scope="row">`+e.Gateway+` <span class="hint">excluded in both</span></th>`,
					template.HTMLEscapeString(e.Gateway+", in both runs: "+e.Reason+"."))
			}
			continue
		}
		back++
		wantBody(t, page,
			`<th scope="row">`+e.Gateway+` <span class="hint">excluded in A</span></th>`,
			fmt.Sprintf(`<td class="num" data-label="Overall">— → %.1f</td>`, ob.Overall),
			template.HTMLEscapeString(e.Gateway+", in A: "+e.Reason+"."),
		)
	}
	if back == 0 || both == 0 {
		t.Fatalf("%d options excluded in A are scored in B and %d excluded in both, want some of each: A excluded %+v, B %+v", back, both, da.Excluded, db.Excluded)
	}
	wantBody(t, page, "Ruled out by a hard constraint: ")
}

// A run priced with a kept price file names it, and its scores are the
// ones its memo printed (scored on the catalog with the file laid over it).
func TestComparePriceFile(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	// The catalog's OpenAI list prices (pricing/data/models.yaml) times ten.
	file := `{
  "gpt-4.1-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06, "output_cost_per_token": 1.6e-05},
  "gpt-4.1-nano": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06}
}`
	pf := store.PriceFile{Name: "tenfold.json", Format: "litellm", Data: []byte(file)}
	if err := s.store.CreatePriceFile(context.Background(), &pf); err != nil {
		t.Fatal(err)
	}
	arch := create(t, h, loadExample(t, "single-provider"))
	a := simulated(t, s, arch, RunOptions{Trials: 40}, nil)
	b := simulated(t, s, arch, RunOptions{Trials: 40, PriceFileID: pf.ID}, nil)

	page := do(t, h, "GET", "/runs/compare?a="+a.ID+"&b="+b.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `<tr class="changed"><th scope="row">Price file <span class="tag">changed</span></th><td>none: the built-in catalog</td><td>tenfold.json (litellm)</td></tr>`)
	// The memo's table: | option | overall ± margin | …
	memoOverall := func(md, gateway string) string {
		for _, line := range strings.Split(md, "\n") {
			if cells := strings.Split(line, " | "); strings.HasPrefix(line, "| "+gateway+" |") && len(cells) > 1 {
				overall, _, _ := strings.Cut(cells[1], " ± ")
				return overall
			}
		}
		t.Fatalf("the memo has no row for %s", gateway)
		return ""
	}
	for _, g := range []string{"direct", "portkey", "kong"} {
		wantBody(t, page, fmt.Sprintf(`<td class="num" data-label="Overall">%s → %s <span`, memoOverall(a.Memo, g), memoOverall(b.Memo, g)))
	}
}

func TestCompareRunsRejects(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	id := create(t, h, loadExample(t, "single-provider"))

	none := do(t, h, "GET", "/runs/compare", nil, nil)
	wantStatus(t, none, http.StatusOK)
	wantBody(t, none, "Comparing needs two finished runs; there is none yet.")

	done := simulated(t, s, id, RunOptions{Trials: 20}, nil)
	one := do(t, h, "GET", "/runs/compare?a="+done.ID, nil, nil)
	wantStatus(t, one, http.StatusOK)
	wantBody(t, one, "Comparing needs two finished runs; there is one so far.")

	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}})
	queued := runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1] // no runner: stays queued
	for _, c := range []struct {
		target string
		status int
		says   string
	}{
		{"/runs/compare?a=" + queued, http.StatusConflict, "Run " + queued + " has not finished: it is queued."},
		{"/runs/compare?a=" + done.ID + "&b=" + queued, http.StatusConflict, "has not finished: it is queued"},
		{"/runs/compare?a=aaaaaaaaaaaa", http.StatusNotFound, ""},
		{"/runs/compare?a=" + done.ID + "&b=aaaaaaaaaaaa", http.StatusNotFound, ""},
	} {
		rec := do(t, h, "GET", c.target, nil, nil)
		wantStatus(t, rec, c.status)
		wantBody(t, rec, c.says)
	}
}

// The more common way: a user edits the architecture and runs it again.
// Each run keeps the architecture it simulated, so the comparison shows
// the edit, the first run's page says the architecture changed since, and
// a run queued before an edit simulates what was queued.
func TestRunsKeepTheArchitectureTheyRan(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	spec := loadExample(t, "single-provider")
	id := create(t, h, spec)
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}})
	queued := runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1] // no runner yet: it waits

	edited := spec
	edited.Traffic.RequestsPerDay *= 2
	edited.Gateways = []string{"direct", "portkey"}
	wantStatus(t, postForm(t, h, "/architectures/"+id, formValues(formFromSpec(edited))), http.StatusSeeOther)
	startRunner(t, s)
	a := waitFor(t, s, queued, store.RunDone, store.RunFailed)
	if a.Status != store.RunDone {
		t.Fatalf("run = %+v", a)
	}
	var res simulator.Result
	if err := json.Unmarshal(a.Result, &res); err != nil {
		t.Fatal(err)
	}
	gateways := map[string]bool{}
	for _, r := range res.Results {
		gateways[r.Gateway] = true
	}
	if len(gateways) != len(spec.Gateways) {
		t.Errorf("the run queued before the edit compared %d options, want the %d it was queued with", len(gateways), len(spec.Gateways))
	}
	b := runArchitecture(t, s, h, id)

	wantBody(t, do(t, h, "GET", "/runs/"+queued, nil, nil), "edited since this run")
	if page := do(t, h, "GET", "/runs/"+b, nil, nil); strings.Contains(page.Body.String(), "edited since this run") {
		t.Error("the latest run's page says the architecture was edited since")
	}
	page := do(t, h, "GET", "/runs/compare?a="+queued+"&b="+b, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `<tr class="changed"><td><code>  requests_per_day: 2000</code></td><td><code>  requests_per_day: 4000</code>`)
}

// A picker's line reads "name · date · chosen · trials" from the memo;
// two runs that would read the same show their ids too.
func TestCompareChoiceLabels(t *testing.T) {
	tie, err := os.ReadFile("../testdata/memo/tie.golden.md")
	if err != nil {
		t.Fatal(err)
	}
	single, err := os.ReadFile("../testdata/memo/single-provider.golden.md")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	runs := []store.Run{
		{ID: "aaaaaaaaaaa1", Memo: string(tie), Total: 50, CreatedAt: at},
		{ID: "aaaaaaaaaaa2", Memo: string(single), Total: 40, CreatedAt: at},
		{ID: "aaaaaaaaaaa3", Memo: string(single), Total: 40, CreatedAt: at},
		{ID: "aaaaaaaaaaa4", Memo: "no memo front matter", Total: 1, CreatedAt: at.Add(time.Hour)},
	}
	names := map[string]string{"aaaaaaaaaaa1": "tie", "aaaaaaaaaaa2": "single", "aaaaaaaaaaa3": "single", "aaaaaaaaaaa4": "odd"}
	fmTie, _ := memo.SplitFrontMatter(tie)
	fmSingle, _ := memo.SplitFrontMatter(single)
	want := []RunChoice{
		{"aaaaaaaaaaa1", fmt.Sprintf("tie · 2026-12-01 09:30 UTC · helicone (tied) · %s trials", number(fmTie.Trials))},
		{"aaaaaaaaaaa2", fmt.Sprintf("single · 2026-12-01 09:30 UTC · direct · %s trials · run aaaaaaaaaaa2", number(fmSingle.Trials))},
		{"aaaaaaaaaaa3", fmt.Sprintf("single · 2026-12-01 09:30 UTC · direct · %s trials · run aaaaaaaaaaa3", number(fmSingle.Trials))},
		{"aaaaaaaaaaa4", "odd · 2026-12-01 10:30 UTC · no decision recorded · 1 trial"},
	}
	got := runChoices(runs, names)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("choice %d = %q, want %q", i, got[i].Label, want[i].Label)
		}
	}
}

func TestCompareFormats(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{spanText(59.0 / 60), "59 min"},
		{spanText(1), "1 h"},
		{spanText(1.5), "1.5 h"},
		{spanText(47), "47 h"},
		{spanText(720), "30 days"},
		{spanText(0), "not recorded"},
		{requestsPerDay(926.045016077170430435), "926"},
		{requestsPerDay(464784.4), "464,784"},
		{requestsPerDay(12.345), "12.3"},
		{requestsPerDay(0.04), "0"},
		{sharesText([]simulator.Share{{Name: "chat", Share: 0.8}, {Name: "summarize", Share: 0.2}}), "chat 80 %, summarize 20 %"},
		{changes(nil, nil, 1), "What differs: one line of the architecture file."},
		{changes(nil, nil, 0), "Nothing differs: the same run options, traffic and architecture file."},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, c := range []struct {
		d     float64
		want  string
		moved bool
	}{{2.84, "+2.8", true}, {-0.04, "0", false}, {-0.06, "−0.1", true}, {0, "0", false}} {
		if got, moved := signedScore(c.d); got != c.want || moved != c.moved {
			t.Errorf("signedScore(%v) = %q, %v; want %q, %v", c.d, got, moved, c.want, c.moved)
		}
	}
}
