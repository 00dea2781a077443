package server

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"gatewise/pricing"
	"gatewise/server/store"
)

// screenSizes are the widths every page must fit: a common phone held
// upright, a common laptop, and either side of static/app.css's one
// breakpoint (60rem, 960 px): a tablet upright gets the phone's layout at
// its widest, 960 px the laptop's at its narrowest.
var screenSizes = []struct {
	name          string
	width, height int64
}{{"phone", 390, 844}, {"tablet", 768, 1024}, {"small laptop", 960, 900}, {"laptop", 1366, 900}}

// overflow is what the browser reports of a page's width at one size.
type overflow struct {
	Width, Viewport int
	// Widest are the outermost elements whose right edge passes the
	// viewport and that no narrower scrolling box contains: where the
	// extra width comes from.
	Widest []string
	// NarrowSelects are visible dropdowns too narrow to read their
	// options.
	NarrowSelects []string
}

// measureOverflow finds the page's width and, when it is wider than the
// window, the elements that make it so.
const measureOverflow = `(() => {
	const vw = window.innerWidth, edge = vw + 0.5;
	const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
		[...e.classList].map(c => "." + c).join("") +
		(e.getAttribute("name") ? '[name="' + e.getAttribute("name") + '"]' : "");
	// The element and its two parents, after its nearest ancestor with an id.
	const path = e => {
		const p = [];
		let n = e;
		for (; n && n !== document.body && p.length < 3; n = n.parentElement) p.unshift(name(n));
		for (; n && n !== document.body; n = n.parentElement) if (n.id) return name(n) + " … " + p.join(" > ");
		return p.join(" > ");
	};
	const right = e => e.getBoundingClientRect().right + window.scrollX;
	// An element inside a box that scrolls or clips within the window
	// widens nothing, unless it is positioned out of that box: an
	// absolutely placed element is clipped only from its containing block
	// (its nearest positioned ancestor) up, a fixed one by nothing.
	const contained = e => {
		let escaping = getComputedStyle(e).position;
		for (let p = e.parentElement; p && p !== document.body && p !== document.documentElement; p = p.parentElement) {
			const cs = getComputedStyle(p);
			if (escaping === "fixed") return false;
			if (escaping === "absolute" && cs.position === "static") continue;
			if (cs.overflowX !== "visible" && right(p) <= edge) return true;
			escaping = cs.position;
		}
		return false;
	};
	const visible = e => e.getClientRects().length > 0;
	// A dropdown must show its longest option, up to 8rem: with room for
	// the arrow, about 32 px more than the text.
	const pen = document.createElement("canvas").getContext("2d");
	const needs = s => {
		const cs = getComputedStyle(s);
		pen.font = cs.fontStyle + " " + cs.fontWeight + " " + cs.fontSize + " " + cs.fontFamily;
		return Math.min(128, 32 + Math.max(0, ...[...s.options].map(o => pen.measureText(o.text).width)));
	};
	const narrow = [...document.querySelectorAll("select")].filter(s => visible(s) && s.getBoundingClientRect().width + 0.5 < needs(s))
		.map(s => path(s) + " is " + Math.round(s.getBoundingClientRect().width) + " px wide, its options need " + Math.round(needs(s)));
	const width = document.documentElement.scrollWidth;
	if (width <= vw) return {Width: width, Viewport: vw, Widest: [], NarrowSelects: narrow};
	const over = [...document.body.querySelectorAll("*")].filter(e => visible(e) && right(e) > edge && !contained(e));
	const set = new Set(over);
	const widest = over.filter(e => !set.has(e.parentElement)).sort((a, b) => right(b) - right(a)).slice(0, 6)
		.map(e => path(e) + " (" + Math.round(e.getBoundingClientRect().width) + " px wide, right edge at " + Math.round(right(e)) + " px)" +
			(e.innerText ? ": " + JSON.stringify(e.innerText.trim().slice(0, 60)) : ""));
	return {Width: width, Viewport: vw, Widest: widest, NarrowSelects: narrow};
})()`

// responsiveShots is where the screenshots go: GATEWISE_SCREENSHOTS, or
// the other browser tests' GATEWISE_E2E_SCREENSHOTS, or a folder under
// the system's temporary directory that outlives the test, for people to
// look at.
func responsiveShots(t *testing.T) string {
	t.Helper()
	dir := cmp.Or(os.Getenv("GATEWISE_SCREENSHOTS"), os.Getenv("GATEWISE_E2E_SCREENSHOTS"),
		filepath.Join(os.TempDir(), "gatewise-screenshots"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// fitsEveryScreen lays the page the browser shows out at each size, keeps
// a full-page screenshot of each, and fails when the page is wider than
// the window, naming the elements that widen it. Resizing lays the same
// page out again, so a page reached by posting a form is measured as the
// user sees it.
func fitsEveryScreen(t *testing.T, ctx context.Context, dir, page string) {
	t.Helper()
	for _, s := range screenSizes {
		steps(t, ctx, chromedp.EmulateViewport(s.width, s.height, chromedp.EmulatePortrait))
		got := run(t, ctx, chromedp.Evaluate[overflow](measureOverflow))
		png := run(t, ctx, chromedp.FullScreenshot(100))
		file := filepath.Join(dir, fmt.Sprintf("%s-%d.png", page, s.width))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		if got.Width > got.Viewport {
			t.Errorf("%s on a %s (%d×%d) is %d px wide in a %d px window (%s); widest:\n  %s",
				page, s.name, s.width, s.height, got.Width, got.Viewport, file, strings.Join(got.Widest, "\n  "))
		}
		if len(got.NarrowSelects) > 0 {
			t.Errorf("%s on a %s (%d×%d) has dropdowns too narrow for their options:\n  %s",
				page, s.name, s.width, s.height, strings.Join(got.NarrowSelects, "\n  "))
		}
	}
	last := screenSizes[len(screenSizes)-1]
	steps(t, ctx, chromedp.EmulateViewport(last.width, last.height))
}

// visit opens a page and waits until it has loaded.
func visit(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	steps(t, ctx, chromedp.Navigate(url))
	waitUntil(t, ctx, `document.readyState === "complete"`)
}

// signInServer starts a second gatewise with sign-in on (one user), for
// the sign-in page; the other pages are measured on the open server.
func signInServer(t *testing.T) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "signin.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Addr: "127.0.0.1:0", Version: "e2e", Users: Users{"dana": hash}}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, func(u string) { ready <- u }) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("sign-in server did not start: %v", err)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("sign-in server shutdown: %v", err)
		}
		st.Close()
	})
	return base
}

// The pages around an architecture, the catalog and the error page fit a
// phone and a laptop.
func TestResponsiveArchitectureAndCatalogPages(t *testing.T) {
	ctx, base, _ := browserTest(t)
	dir := responsiveShots(t)

	visit(t, ctx, signInServer(t)+"/signin")
	steps(t, ctx, chromedp.WaitVisible(chromedp.ID("signin")))
	fitsEveryScreen(t, ctx, dir, "signin")
	steps(t, ctx, chromedp.SetValue(chromedp.ID("name"), "dana"), chromedp.SetValue(chromedp.ID("password"), "wrong horse"),
		chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.CSS(".problems")))
	fitsEveryScreen(t, ctx, dir, "signin-refused")

	visit(t, ctx, base+"/")
	fitsEveryScreen(t, ctx, dir, "home")

	// The largest example: five providers, three regions.
	visit(t, ctx, base+"/architectures/new?example=multi-region")
	steps(t, ctx, chromedp.WaitVisible(chromedp.ID("save")))
	fitsEveryScreen(t, ctx, dir, "form")

	share := chromedp.CSS(`input[name="routes[1].share"]`)
	volume := chromedp.CSS(`input[name="traffic.requests_per_day"]`)
	steps(t, ctx, chromedp.SetValue(share, "abc"), chromedp.SetValue(volume, "two hundred thousand"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("problems")))
	fitsEveryScreen(t, ctx, dir, "form-errors")

	steps(t, ctx, chromedp.SetValue(share, "0.3"), chromedp.SetValue(volume, "200000"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("run")))
	if url := run(t, ctx, chromedp.Location()); !regexp.MustCompile(`/architectures/[a-z0-9]{12}$`).MatchString(url) {
		t.Fatalf("saving landed on %q, want the architecture's page", url)
	}
	fitsEveryScreen(t, ctx, dir, "architecture")

	visit(t, ctx, base+"/architectures")
	fitsEveryScreen(t, ctx, dir, "architectures")

	visit(t, ctx, base+"/catalog")
	fitsEveryScreen(t, ctx, dir, "catalog")

	prices, err := filepath.Abs("../pricing/testdata/litellm-small.json")
	if err != nil {
		t.Fatal(err)
	}
	visit(t, ctx, base+"/catalog/prices")
	steps(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{prices}),
		chromedp.SetValue(chromedp.ID("threshold"), "1"),
		chromedp.Click(chromedp.CSS(`form[action="/catalog/prices"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("main h2")))
	if h2 := run(t, ctx, chromedp.Text(chromedp.CSS("main h2"))); h2 != "litellm-small.json" {
		t.Fatalf("price file check shows %q, want the file's name", h2)
	}
	fitsEveryScreen(t, ctx, dir, "price-check")

	visit(t, ctx, base+"/no/such/page")
	if h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1"))); h1 == "" {
		t.Fatal("the 404 page has no heading")
	}
	fitsEveryScreen(t, ctx, dir, "not-found")
}

// spendLogs is a LiteLLM SpendLogs export of n requests a minute apart
// over two models, one in ten failed.
func spendLogs(n int) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(strings.Split("request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,custom_llm_provider,metadata,cache_hit,request_tags,status", ","))
	models := []string{"gpt-4.1-mini", "gpt-4.1-nano"}
	for i := range n {
		status := "success"
		if i%10 == 9 {
			status = "failure"
		}
		at := fmt.Sprintf("2026-11-02 %02d:%02d:00.000+00", 9+i/60, i%60)
		end := fmt.Sprintf("2026-11-02 %02d:%02d:01.800+00", 9+i/60, i%60)
		m := models[i%len(models)]
		w.Write([]string{fmt.Sprintf("req-%d", i), "acompletion", "hk1", "0.0004", fmt.Sprint(1100 + i), fmt.Sprint(950 + i), "150",
			at, end, m, m, "openai", "{}", "False", `["chat"]`, status})
	}
	w.Flush()
	return b.String()
}

// Uploads, runs, the runs list and compare fit a phone and a laptop. The
// data is made as a script would (xssClient); the pages are read as a
// user does.
func TestResponsiveUploadAndRunPages(t *testing.T) {
	ctx, base, _ := browserTest(t)
	dir := responsiveShots(t)
	c := xssClient{t: t, base: base}

	visit(t, ctx, base+"/architectures/new?example=multi-region")
	steps(t, ctx, chromedp.WaitVisible(chromedp.ID("save")), chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("run")))
	arch := regexp.MustCompile(`/architectures/([a-z0-9]{12})$`).FindStringSubmatch(run(t, ctx, chromedp.Location()))
	if arch == nil {
		t.Fatal("saving did not land on the architecture's page")
	}

	res, data := c.multipart("/architectures/"+arch[1]+"/uploads", nil, "litellm-spendlogs-2026-11-02.csv", spendLogs(180))
	summary := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/uploads/[a-z2-7]{12}$`).MatchString(summary) {
		t.Fatalf("upload: %s to %q, want its summary\n%.800s", res.Status, summary, data)
	}
	visit(t, ctx, base+summary)
	fitsEveryScreen(t, ctx, dir, "upload")

	// Columns no format knows, with long names, open the mapping page.
	var odd strings.Builder
	w := csv.NewWriter(&odd)
	w.Write([]string{"event_time_recorded_by_the_frontend_proxy", "tokens_sent_upstream_in_the_request_body", "tokens_received", "free_text_comment"})
	for i := range 30 {
		w.Write([]string{fmt.Sprintf("2026-11-03T10:%02d:00Z", i), fmt.Sprint(700 + i), "80", "a note about request " + fmt.Sprint(i)})
	}
	w.Flush()
	res, data = c.multipart("/architectures/"+arch[1]+"/uploads", nil, "frontend-proxy-export.csv", odd.String())
	mapping := regexp.MustCompile(`action="(/uploads/[a-z2-7]{12}/map)"`).FindSubmatch(data)
	if res.StatusCode != http.StatusUnprocessableEntity || mapping == nil {
		t.Fatalf("unknown log: %s, want its mapping page\n%.800s", res.Status, data)
	}
	visit(t, ctx, base+string(mapping[1]))
	steps(t, ctx, chromedp.WaitVisible(chromedp.ID("mapping-form")))
	fitsEveryScreen(t, ctx, dir, "mapping")
	// Read it with a mapping: the page adds what the mapping reads.
	steps(t, ctx, chromedp.SetValue(chromedp.ID("col_timestamp"), "event_time_recorded_by_the_frontend_proxy"),
		chromedp.SetValue(chromedp.ID("col_input_tokens"), "tokens_sent_upstream_in_the_request_body"),
		chromedp.SetValue(chromedp.ID("col_output_tokens"), "tokens_received"),
		chromedp.SetValue(chromedp.CSS(`input[name="const_model"]`), "gpt-4.1-mini"),
		chromedp.Click(chromedp.ID("preview")), chromedp.WaitVisible(chromedp.ID("summary")))
	fitsEveryScreen(t, ctx, dir, "mapping-read")

	upload := strings.TrimPrefix(summary, "/uploads/")
	synthetic := c.runDone(`{"architecture_id": "` + arch[1] + `", "trials": 200}`)
	logged := c.runDone(`{"architecture_id": "` + arch[1] + `", "trials": 200, "upload_id": "` + upload + `"}`)

	visit(t, ctx, base+"/runs/"+logged)
	steps(t, ctx, chromedp.WaitVisible(chromedp.CSS(`a[href$="/memo.md"]`)))
	fitsEveryScreen(t, ctx, dir, "run")

	visit(t, ctx, base+"/runs/"+logged+"/memo.html")
	fitsEveryScreen(t, ctx, dir, "memo-page")

	visit(t, ctx, base+"/runs")
	fitsEveryScreen(t, ctx, dir, "runs")

	// The pages that list what was made, now that there is some.
	visit(t, ctx, base+"/")
	fitsEveryScreen(t, ctx, dir, "home-with-runs")
	visit(t, ctx, base+"/architectures/"+arch[1])
	fitsEveryScreen(t, ctx, dir, "architecture-with-runs")
	visit(t, ctx, base+"/architectures/"+arch[1]+"/delete")
	fitsEveryScreen(t, ctx, dir, "architecture-delete")

	visit(t, ctx, base+"/runs/compare?a="+synthetic+"&b="+logged)
	steps(t, ctx, chromedp.WaitVisible(chromedp.CSS("table.diff")))
	fitsEveryScreen(t, ctx, dir, "compare")

	// A run in progress shows its bar; cancel it once measured, so it
	// does not hold the machine.
	live := c.id("POST", "/api/v1/runs", "application/json", strings.NewReader(`{"architecture_id": "`+arch[1]+`", "trials": 100000}`), http.StatusAccepted)
	visit(t, ctx, base+"/runs/"+live)
	steps(t, ctx, chromedp.WaitVisible(chromedp.ID("progress")))
	fitsEveryScreen(t, ctx, dir, "run-in-progress")
	if res, data := c.send("POST", "/runs/"+live+"/cancel", "", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("cancel the run in progress: %s\n%.500s", res.Status, data)
	}
}
