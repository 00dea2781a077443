package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatewise/pricing"
	"gatewise/server/store"
)

// browserTest starts the real server on a loopback port with a fresh SQLite
// file and a headless Chromium pointed at it. It runs when GATEWISE_E2E=1
// (as .ci/run sets) and then fails, rather than skips, without Chromium.
func browserTest(t *testing.T) (ctx context.Context, base string, shot func(name string)) {
	t.Helper()
	if os.Getenv("GATEWISE_E2E") != "1" {
		t.Skip("browser test: set GATEWISE_E2E=1 and install Debian's chromium (apt-get install chromium) to run it")
	}
	chrome := os.Getenv("GATEWISE_CHROMIUM")
	if chrome == "" {
		for _, c := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(c); err == nil {
				chrome = p
				break
			}
		}
	}
	if chrome == "" {
		t.Fatal("GATEWISE_E2E=1 but no chromium on PATH: apt-get install chromium")
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "e2e.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Addr: "127.0.0.1:0", Version: "e2e"}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(srvCtx, func(u string) { ready <- u }) }()
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		stopServer()
		if err := <-done; err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		st.Close()
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1600),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })

	dir := t.TempDir()
	if keep := os.Getenv("GATEWISE_E2E_SCREENSHOTS"); keep != "" {
		dir = keep
	}
	shot = func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, t.Name()+"-"+name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	return ctx, base, shot
}

// run is chromedp.Run that fails the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func steps(t *testing.T, ctx context.Context, a ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, a...); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserStartFromExampleAndSave(t *testing.T) {
	ctx, base, shot := browserTest(t)
	const start = `a[href="/architectures/new?example=multi-region"]`
	steps(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(start)))
	shot("home")
	steps(t, ctx, chromedp.Click(chromedp.CSS(start)), chromedp.WaitVisible(chromedp.ID("save")))
	shot("form")
	steps(t, ctx, chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.CSS(`a[href$="/download"]`)))
	shot("architecture")
	if h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1"))); h1 != "Support assistant, 5 providers, 3 regions" {
		t.Errorf("architecture page h1 = %q", h1)
	}
	if url := run(t, ctx, chromedp.Location()); !regexp.MustCompile(`/architectures/[a-z0-9]{12}$`).MatchString(url) {
		t.Errorf("landed on %q, want the saved architecture's page", url)
	}
}

func TestBrowserBadShareShowsMessageBesideField(t *testing.T) {
	ctx, base, shot := browserTest(t)
	share := chromedp.CSS(`input[name="routes[1].share"]`)
	steps(t, ctx,
		chromedp.Navigate(base+"/architectures/new?example=multi-region"),
		chromedp.WaitVisible(share),
		chromedp.SetValue(share, "abc"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("problems")),
	)
	shot("bad-share")
	if v := run(t, ctx, chromedp.Value(share)); v != "abc" {
		t.Errorf("input after error = %q, want the user's %q kept", v, "abc")
	}
	if a := run(t, ctx, chromedp.AttributeValue(share, "aria-invalid")); a.Value != "true" {
		t.Errorf("aria-invalid = %q", a.Value)
	}
	// The message sits in the same table cell as the input.
	cell := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('input[name="routes[1].share"]').closest('td').innerText`))
	if !strings.Contains(cell, `must be a number, not "abc"`) {
		t.Errorf("message beside the field = %q", cell)
	}
}

func TestBrowserAddAndRemoveRouteRows(t *testing.T) {
	ctx, base, shot := browserTest(t)
	const countRows = `document.querySelectorAll('tr.route-row').length`
	steps(t, ctx,
		chromedp.Navigate(base+"/architectures/new?example=multi-region"),
		chromedp.WaitVisible(chromedp.CSS(`button[value="add-routes"]`)),
		chromedp.Click(chromedp.CSS(`button[value="add-routes"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="routes[3].name"]`)),
	)
	shot("added-route")
	if n := run(t, ctx, chromedp.Evaluate[int](countRows)); n != 4 {
		t.Fatalf("after Add route: %d rows, want 4", n)
	}
	steps(t, ctx,
		chromedp.Click(chromedp.CSS(`button[value="remove-routes-0"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`input[name="routes[3].name"]`)),
	)
	shot("removed-route")
	n := run(t, ctx, chromedp.Evaluate[int](countRows))
	first := run(t, ctx, chromedp.Value(chromedp.CSS(`input[name="routes[0].name"]`)))
	if n != 3 || first != "summarize" {
		t.Errorf("after removing the first route: %d rows, first %q; want 3 rows, first \"summarize\"", n, first)
	}
}

// Run an architecture twice from its page, read the memo once the page has
// refreshed itself to the end, and compare the two runs.
func TestBrowserRunAndCompare(t *testing.T) {
	ctx, base, shot := browserTest(t)
	steps(t, ctx, chromedp.Navigate(base+"/architectures/new?example=single-provider"), chromedp.WaitVisible(chromedp.ID("save")),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("run")))
	architecture := run(t, ctx, chromedp.Location())
	var runs []string
	for range 2 {
		steps(t, ctx, chromedp.Navigate(architecture), chromedp.WaitVisible(chromedp.ID("trials")),
			chromedp.SetValue(chromedp.ID("trials"), "200"), chromedp.Click(chromedp.ID("run")),
			// The page follows the run (static/progress.js) and shows the
			// memo when it is done.
			chromedp.WaitVisible(chromedp.CSS(`a[href$="/memo.md"]`)))
		runs = append(runs, run(t, ctx, chromedp.Location()))
	}
	shot("run")
	if memo := run(t, ctx, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(memo, "Chosen: direct") {
		t.Errorf("run page lacks the decision:\n%.1500s", memo)
	}
	// The charts are drawn in colour under the page's Content-Security-Policy,
	// which ignores style attributes: every chart's background is white and
	// its bars or dots are not black.
	type paint struct{ Charts, White, Black, Coloured int }
	got := run(t, ctx, chromedp.Evaluate[paint](`(() => {
		const svgs = [...document.querySelectorAll("svg[role=img]")];
		const fills = svgs.flatMap(s => [...s.querySelectorAll("path")].map(p => getComputedStyle(p).fill));
		return {Charts: svgs.length, White: fills.filter(f => f === "rgb(255, 255, 255)").length,
			Black: fills.filter(f => f === "rgb(0, 0, 0)").length,
			Coloured: fills.filter(f => f.startsWith("rgb(") && f !== "rgb(255, 255, 255)" && f !== "rgb(0, 0, 0)").length};
	})()`))
	if got.Charts != 4 || got.White < 4 || got.Black != 0 || got.Coloured == 0 {
		t.Errorf("chart paint under the CSP: %+v; want 4 charts with white backgrounds, coloured marks and nothing black", got)
	}
	// The memo's numbers stay right-aligned under the CSP: its tables align
	// by attribute, not by a style attribute the policy refuses.
	if align := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("article.memo td[align=right]")).textAlign`)); align != "right" {
		t.Errorf("a memo number cell is aligned %q, want right", align)
	}
	// Download the memo as the link does and check what it holds.
	type download struct {
		Disposition, Type, Body string
	}
	md := run(t, ctx, chromedp.Evaluate[download](`fetch(document.querySelector('a[href$="/memo.md"]').href).then(r => r.text().then(b => ({
		Disposition: r.headers.get("Content-Disposition"), Type: r.headers.get("Content-Type"), Body: b})))`,
		chromedp.EvalAwaitPromise))
	if !strings.Contains(md.Disposition, "attachment") || !strings.Contains(md.Disposition, ".md") || !strings.HasPrefix(md.Type, "text/markdown") {
		t.Errorf("memo download headers: %+v", md)
	}
	for _, want := range []string{"status: proposed", "**Chosen: direct**", "**Rollout.**", "gatewise rollout"} {
		if !strings.Contains(md.Body, want) {
			t.Errorf("downloaded memo lacks %q:\n%.1500s", want, md.Body)
		}
	}
	// The standalone memo's stylesheet applies under its strict
	// Content-Security-Policy, and the page prints on one sheet.
	steps(t, ctx, chromedp.Navigate(runs[1]+"/memo.html"), chromedp.WaitVisible(chromedp.CSS("table")))
	if collapse := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("table")).borderCollapse`)); collapse != "collapse" {
		t.Errorf("memo.html table border-collapse = %q: the page's stylesheet was blocked", collapse)
	}
	for _, p := range papers {
		if n := printedPages(t, ctx, p.size); n != 1 {
			t.Errorf("memo.html prints on %d pages of %s, want 1", n, p.name)
		}
	}
	steps(t, ctx, chromedp.Navigate(runs[1]), chromedp.WaitVisible(chromedp.CSS(`a[href$="/memo.md"]`)))
	// static/copy.js gives every file of the rollout bundle a Copy button.
	blocks := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".rollout pre").length`))
	buttons := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".rollout button.copy").length`))
	if blocks == 0 || buttons != blocks {
		t.Errorf("memo has %d code blocks and %d copy buttons; want a button for each, at least one", blocks, buttons)
	}
	steps(t, ctx, chromedp.Click(chromedp.CSS(`a[href^="/runs/compare"]`)), chromedp.WaitVisible(chromedp.ID("b")),
		chromedp.Click(chromedp.CSS(`form[action="/runs/compare"] button`)),
		chromedp.WaitVisible(chromedp.CSS("table.diff")))
	shot("compare")
	page := run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"Nothing: both runs simulated the same architecture file.", "How the answer moved", "baseline", "direct"} {
		if !strings.Contains(page, want) {
			t.Errorf("compare page lacks %q", want)
		}
	}
	if runs[0] == runs[1] {
		t.Errorf("runs %v: want two distinct run pages", runs)
	}
}

// Upload a real trace from an architecture's page, read its summary, then
// upload a file no format matches and read why.
func TestBrowserUploadLogs(t *testing.T) {
	trace, err := filepath.Abs("../../shared/data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv")
	if err == nil {
		_, err = os.Stat(trace)
	}
	if err != nil {
		t.Skipf("needs the Azure trace in ../shared/data/azure-llm-2023 (the shared data folder beside the repo): %v", err)
	}
	ctx, base, shot := browserTest(t)
	steps(t, ctx, chromedp.Navigate(base+"/architectures/new?example=single-provider"), chromedp.WaitVisible(chromedp.ID("save")),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("run")))
	architecture := run(t, ctx, chromedp.Location())

	upload := func(file string) {
		t.Helper()
		steps(t, ctx, chromedp.Navigate(architecture), chromedp.WaitReady(chromedp.ID("upload-file")))
		// The box starts closed until the architecture has an upload.
		if open := run(t, ctx, chromedp.Evaluate[bool](`document.querySelector("details.upload-box").open`)); !open {
			steps(t, ctx, chromedp.Click(chromedp.CSS("details.upload-box summary")))
		}
		steps(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{file}),
			chromedp.Click(chromedp.CSS(`form.upload-form button[type="submit"]`)),
			// Neither the summary nor the error page has the
			// architecture's upload form (the summary has its own, to add
			// another log).
			chromedp.WaitNotPresent(chromedp.CSS(`form.upload-form[action^="/architectures/"]`)))
	}
	upload(trace)
	shot("azure")
	page := run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	// The conversation trace has 19,366 rows (data.md), all usable.
	for _, want := range []string{"Read as azure", "19,366 read, 19,366 used", "Run with this traffic"} {
		if !strings.Contains(page, want) {
			t.Errorf("upload summary lacks %q:\n%.1500s", want, page)
		}
	}

	// A hand-made LiteLLM SpendLogs export (the columns of LiteLLM's
	// spend-logs table): 120 requests a minute apart, one in ten failed.
	var export strings.Builder
	export.WriteString("request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,custom_llm_provider,metadata,cache_hit,request_tags,status\n")
	for i := range 120 {
		status := "success"
		if i%10 == 9 {
			status = "failure"
		}
		fmt.Fprintf(&export, "req-%d,acompletion,hk1,0.0004,%d,%d,120,2026-11-02 %02d:%02d:00.000+00,2026-11-02 %02d:%02d:02.500+00,gpt-4.1-mini-2025-04-14,gpt-4.1-mini,openai,{},False,\"[\"\"chat\"\"]\",%s\n",
			i, 1020+i, 900+i, 9+i/60, i%60, 9+i/60, i%60, status)
	}
	litellm := filepath.Join(t.TempDir(), "spendlogs.csv")
	if err := os.WriteFile(litellm, []byte(export.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	upload(litellm)
	shot("litellm")
	page = run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	// Every request took 2.5 s; the summary's latency histogram has ten
	// buckets a decade and answers with the bucket's geometric middle,
	// 10^3.35 ms ≈ 2,239 ms (written like the page's other numbers, with
	// a thousands separator), for every percentile.
	for _, want := range []string{"Read as litellm-spendlogs", "120 read, 120 used", "gpt-4.1-mini",
		"p50 2,239 ms · p95 2,239 ms · p99 2,239 ms (of 120 requests with a latency)", "Run with this traffic"} {
		if !strings.Contains(page, want) {
			t.Errorf("LiteLLM upload summary lacks %q:\n%.1500s", want, page)
		}
	}

	// A log in no known format opens the mapping page: the problem, the
	// file's columns with the first row's values, and a first guess.
	var odd strings.Builder
	odd.WriteString("sent_at,prompt_tokens_used,completion_tokens_used,prompt_text\n")
	for i := range 40 {
		fmt.Fprintf(&odd, "2026-11-03T10:%02d:00Z,%d,90,\"question %d\"\n", i, 800+i, i)
	}
	mystery := filepath.Join(t.TempDir(), "mystery.csv")
	if err := os.WriteFile(mystery, []byte(odd.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	upload(mystery)
	steps(t, ctx, chromedp.WaitVisible(chromedp.ID("mapping-form")))
	shot("mapping")
	page = run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	// The page names the form's fields, not the command line's flags.
	for _, want := range []string{"match no known format (sent_at, prompt_tokens_used, completion_tokens_used, prompt_text)", "under Format, one of (csv"} {
		if !strings.Contains(page, want) {
			t.Errorf("mapping page lacks %q:\n%.1500s", want, page)
		}
	}
	if strings.Contains(page, "--") {
		t.Errorf("mapping page speaks of flags:\n%.1500s", page)
	}
	if got := run(t, ctx, chromedp.Value(chromedp.ID("col_input_tokens"))); got != "prompt_tokens_used" {
		t.Errorf("input_tokens starts as %q, want the guess prompt_tokens_used", got)
	}
	// The log has no model: give one, read, see the summary, use it.
	steps(t, ctx, chromedp.SetValue(chromedp.CSS(`input[name="const_model"]`), "gpt-4.1-mini"),
		chromedp.Click(chromedp.ID("preview")), chromedp.WaitVisible(chromedp.ID("summary")))
	page = run(t, ctx, chromedp.Text(chromedp.ID("summary")))
	for _, want := range []string{"40 read, 40 used", "gpt-4.1-mini"} {
		if !strings.Contains(page, want) {
			t.Errorf("mapping preview lacks %q:\n%.1500s", want, page)
		}
	}
	// The mapping read is a table, field by field (field | column | unit):
	// the fixed model given above, and the guessed columns.
	read := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#summary #mapping-used tbody tr")].map(r =>
		[r.cells[0].firstChild.textContent, r.cells[1].textContent, r.cells[2].textContent].join(" | "))`))
	if want := []string{"timestamp | sent_at | ", "model | fixed value gpt-4.1-mini | ",
		"input_tokens | prompt_tokens_used | ", "output_tokens | completion_tokens_used | "}; !slices.Equal(read, want) {
		t.Errorf("the preview's mapping table reads\n%q\nwant\n%q", read, want)
	}
	shot("mapping-preview")
	steps(t, ctx, chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("run")))
	page = run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(page, "Traffic from mystery.csv") || !strings.Contains(page, "40 read, 40 used") {
		t.Errorf("the mapped upload's page:\n%.1500s", page)
	}

	// A file that is no log at all is refused with its reason.
	bad := filepath.Join(t.TempDir(), "image.csv")
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\n\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	upload(bad)
	shot("bad-upload")
	page = run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(page, "image.csv: line 3: the file is binary") {
		t.Errorf("bad upload page:\n%.1500s", page)
	}
}

// waitUntil polls a JavaScript condition until it holds (the test's
// deadline bounds it).
func waitUntil(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	for {
		if run(t, ctx, chromedp.Evaluate[bool](cond)) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", cond, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Start a long run, watch its progress move, and cancel it from its page.
func TestBrowserCancelRun(t *testing.T) {
	ctx, base, shot := browserTest(t)
	steps(t, ctx, chromedp.Navigate(base+"/architectures/new?example=single-provider"), chromedp.WaitVisible(chromedp.ID("save")),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("run")),
		chromedp.SetValue(chromedp.ID("trials"), "100000"), chromedp.Click(chromedp.ID("run")),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/cancel"] button`)))
	// The bar moves in place: static/progress.js marks the page with the
	// trials done from each event, and the page is never reloaded (the
	// marker set before would be gone).
	run(t, ctx, chromedp.Evaluate[bool](`window.sameLoad = true`))
	waitUntil(t, ctx, `Number(document.body.dataset.progress || 0) > 0 && window.sameLoad === true`)
	if v := run(t, ctx, chromedp.Evaluate[float64](`document.getElementById("progress").value`)); v < 0 || v > 100 {
		t.Errorf("progress bar at %v", v)
	}
	if line := run(t, ctx, chromedp.Text(chromedp.ID("progress-line"))); !strings.Contains(line, "of 100,000") {
		t.Errorf("progress line %q", line)
	}
	shot("running")
	steps(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/cancel"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".status-cancelled")))
	shot("cancelled")
	if page := run(t, ctx, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(page, "Restart") {
		t.Errorf("a cancelled run's page should offer Restart:\n%.1000s", page)
	}
}
