package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gatewise/server/store"
)

// Text a user could type or upload to run script in gatewise's pages, each
// setting window.__xss or opening a dialog if it ever became markup.
const (
	xssImg    = `<img src=x onerror="window.__xss=1">`
	xssScript = `"><script>window.__xss=1</script>`
	xssLink   = `[click](javascript:window.__xss=1)`
	xssHref   = `javascript:window.__xss=1`
	xssTmpl   = `{{.Version}}{{template "layout" .}}`
	xssSVG    = `<svg onload=alert(1)>`
	// xssFence would end a Markdown code block and start raw HTML, if a
	// route name were written into the memo's config block unescaped.
	xssFence = "fence\n```\n" + xssImg + "\n" + xssLink
)

// hostileArchitecture is an architecture file (JSON) whose free text,
// the name, route names and the log path, is hostile; models and ids must
// be from the catalog, so they cannot carry anything.
func hostileArchitecture(name string) []byte {
	route := func(name string, share float64, models ...string) map[string]any {
		return map[string]any{"name": name, "share": share, "models": models, "input_tokens": 1000, "output_tokens": 200}
	}
	data, _ := json.Marshal(map[string]any{
		"name":      name,
		"providers": []any{map[string]any{"id": "openai", "regions": []string{"us"}}},
		"routes": []any{
			route(xssScript, 0.5, "gpt-4.1-mini"),
			route(xssSVG+xssTmpl, 0.3, "gpt-4.1-nano"),
			route(xssFence, 0.2, "gpt-4.1-mini", "gpt-4.1-nano"),
		},
		"traffic":    map[string]any{"requests_per_day": 2000, "origin": map[string]float64{"us": 1}, "logs": xssHref},
		"team":       map[string]any{"engineers": 2, "ops_hourly_usd": 90},
		"gateways":   []string{"direct", "portkey", "litellm"},
		"scenarios":  []string{"baseline", "provider-outage"},
		"simulation": map[string]any{"trials": 30, "seed": 7},
	})
	return data
}

// hostileSpendLogs is a LiteLLM SpendLogs export whose model names, tags
// and metadata are hostile, with some rows whose token count is, so the
// summary quotes them as skipped.
func hostileSpendLogs() string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(strings.Split("request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,custom_llm_provider,metadata,cache_hit,request_tags,status", ","))
	models := []string{"gpt-4.1-mini", xssImg, xssScript, xssTmpl}
	for i := range 60 {
		prompt := fmt.Sprint(900 + i)
		if i%10 == 7 {
			prompt = xssImg
		}
		m := models[i%len(models)]
		w.Write([]string{fmt.Sprintf("req-%d", i), "acompletion", xssHref, "0.0004", "1020", prompt, "120",
			fmt.Sprintf("2026-11-02 09:%02d:00.000+00", i), fmt.Sprintf("2026-11-02 09:%02d:02.500+00", i),
			m, m, "openai", `{"user": "` + strings.ReplaceAll(xssScript, `"`, `\"`) + `"}`, "False", `["` + xssSVG + `"]`, "success"})
	}
	w.Flush()
	return b.String()
}

// hostileUnknownLog is a log in no known format whose column names and
// first row are hostile, for the mapping page.
func hostileUnknownLog() string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"sent_at", xssImg, xssScript, xssTmpl})
	for i := range 20 {
		w.Write([]string{fmt.Sprintf("2026-11-03T10:%02d:00Z", i), xssSVG, xssLink, fmt.Sprint(80 + i)})
	}
	w.Flush()
	return b.String()
}

// hostileFileName is an upload's file name: the base name is kept, so it
// has no slash.
const hostileFileName = `<img src=x onerror=window.__xss=1>.csv`

// xssClient talks to the test's server as a script would (no Origin
// header), and leaves redirects to the caller.
type xssClient struct {
	t    *testing.T
	base string
}

func (c xssClient) send(method, path, ctype string, body io.Reader) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return res, data
}

// id sends a request that must answer status and returns the id in its
// JSON answer.
func (c xssClient) id(method, path, ctype string, body io.Reader, status int) string {
	c.t.Helper()
	res, data := c.send(method, path, ctype, body)
	var v struct{ ID string }
	if res.StatusCode != status || json.Unmarshal(data, &v) != nil || v.ID == "" {
		c.t.Fatalf("%s %s: %s, want %d\n%.800s", method, path, res.Status, status, data)
	}
	return v.ID
}

func (c xssClient) multipart(path string, fields map[string]string, name, file string) (*http.Response, []byte) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	io.WriteString(fw, file)
	mw.Close()
	return c.send("POST", path, mw.FormDataContentType(), &body)
}

// runDone queues a run and waits for it to finish.
func (c xssClient) runDone(body string) string {
	c.t.Helper()
	id := c.id("POST", "/api/v1/runs", "application/json", strings.NewReader(body), http.StatusAccepted)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		_, data := c.send("GET", "/api/v1/runs/"+id, "", nil)
		var r struct{ Status, Error string }
		json.Unmarshal(data, &r)
		switch {
		case r.Status == store.RunDone:
			return id
		case r.Status == store.RunFailed || time.Now().After(deadline):
			c.t.Fatalf("run %s: %+v", id, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inertPage is what the test reads of a page once it has loaded.
type inertPage struct {
	XSS           string // typeof window.__xss
	Injected      int    // elements the payloads would make
	InlineScripts int    // scripts without src
	ScriptLinks   int    // links, forms and frames to javascript:
	Text          string // what a reader sees, with form fields' values
}

const readPage = `(() => ({
	XSS: typeof window.__xss,
	Injected: document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload], [onclick]').length,
	InlineScripts: [...document.scripts].filter(s => !s.src).length,
	ScriptLinks: [...document.querySelectorAll("a[href], form[action], iframe[src]")]
		.filter(e => /^\s*javascript:/i.test(e.getAttribute("href") || e.getAttribute("action") || e.getAttribute("src"))).length,
	Text: document.body.innerText + "\n" + [...document.querySelectorAll("input, textarea")].map(e => e.value).join("\n"),
}))()`

// Every page that shows user text, after an architecture, uploads, a price
// file and runs made of hostile text: nothing runs, nothing becomes
// markup, and the text reads as the user typed it.
func TestBrowserHostileTextStaysInert(t *testing.T) {
	ctx, base, shot := browserTest(t)
	c := xssClient{t: t, base: base}

	// The pages' Content-Security-Policy would stop inline script on its
	// own; the browser ignores it here so that escaping alone is tested.
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var dialogs []string
	opened := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opened {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()

	nameA := xssImg + " " + xssScript + " " + xssLink + " " + xssTmpl
	nameB := "B " + xssSVG + " " + xssHref
	a := c.id("POST", "/api/v1/architectures", "application/json", bytes.NewReader(hostileArchitecture(nameA)), http.StatusCreated)
	b := c.id("POST", "/api/v1/architectures", "application/json", bytes.NewReader(hostileArchitecture(nameB)), http.StatusCreated)

	res, data := c.multipart("/api/v1/uploads", map[string]string{"architecture_id": a}, hostileFileName, hostileSpendLogs())
	var up struct{ ID string }
	if json.Unmarshal(data, &up); res.StatusCode != http.StatusCreated || up.ID == "" {
		t.Fatalf("upload: %s\n%.800s", res.Status, data)
	}
	res, data = c.multipart("/architectures/"+a+"/uploads", nil, hostileFileName, hostileUnknownLog())
	waiting := regexp.MustCompile(`action="/uploads/([a-z2-7]{12})/map"`).FindSubmatch(data)
	if res.StatusCode != http.StatusUnprocessableEntity || waiting == nil {
		t.Fatalf("unknown log: %s, want its mapping page\n%.800s", res.Status, data)
	}
	prices := `{"gpt-4.1-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-07, "output_cost_per_token": 1.6e-06}}`
	res, data = c.multipart("/catalog/prices", map[string]string{"keep": "1", "threshold": "5"}, `"><svg onload=alert(1)>.json`, prices)
	kept := regexp.MustCompile(`Kept as price file <code>([a-z2-7]{12})</code>`).FindSubmatch(data)
	if res.StatusCode != http.StatusOK || kept == nil {
		t.Fatalf("price file: %s\n%.800s", res.Status, data)
	}

	runA := c.runDone(`{"architecture_id": "` + a + `", "trials": 30}`)
	runU := c.runDone(`{"architecture_id": "` + a + `", "trials": 30, "upload_id": "` + up.ID + `", "price_file_id": "` + string(kept[1]) + `"}`)
	runB := c.runDone(`{"architecture_id": "` + b + `", "trials": 30}`)

	// What each page should show as text; whitespace is compared as one
	// space, as a page shows it.
	fence := xssFence
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{nameA, nameB}},
		{"/architectures", []string{nameA, nameB}},
		{"/architectures/" + a, []string{nameA, xssScript, xssSVG + xssTmpl, fence, hostileFileName, `"><svg onload=alert(1)>.json`}},
		{"/architectures/" + a + "/edit", []string{nameA, xssScript, xssSVG + xssTmpl, xssHref}},
		{"/architectures/" + a + "/delete", []string{nameA}},
		{"/uploads/" + up.ID, []string{"Traffic from " + hostileFileName, xssImg, xssScript, xssTmpl, `input_tokens "<img src=x onerror=\"window.__xss=1\">" is not a whole number`}},
		{"/uploads/" + string(waiting[1]) + "/map", []string{"Map the columns of " + hostileFileName, xssImg, xssScript, xssTmpl, xssSVG, xssLink}},
		{"/runs/" + runA, []string{"Gateway decision: " + nameA, xssScript, xssSVG + xssTmpl, fence}},
		{"/runs/" + runU, []string{"priced with " + `"><svg onload=alert(1)>.json`}},
		{"/runs/" + runB, []string{"Gateway decision: " + nameB}},
		{"/runs", []string{nameA, nameB}},
		{"/runs/compare?a=" + runA + "&b=" + runB, []string{nameA, nameB}},
		{"/catalog", nil},
		{"/api/v1/runs/" + runA + "/memo.html", []string{"Gateway decision: " + nameA, xssScript, fence}},
	}
	for i, p := range pages {
		steps(t, ctx, chromedp.Navigate(base+p.path))
		waitUntil(t, ctx, `document.readyState === "complete"`)
		got := run(t, ctx, chromedp.Evaluate[inertPage](readPage))
		if got.XSS != "undefined" || got.Injected != 0 || got.InlineScripts != 0 || got.ScriptLinks != 0 {
			shot(fmt.Sprintf("page-%d", i))
			t.Errorf("%s: window.__xss is %s, %d injected elements, %d inline scripts, %d javascript: links",
				p.path, got.XSS, got.Injected, got.InlineScripts, got.ScriptLinks)
		}
		text := strings.Join(strings.Fields(got.Text), " ")
		for _, want := range p.want {
			if want = strings.Join(strings.Fields(want), " "); !strings.Contains(text, want) {
				t.Errorf("%s does not show %q as text:\n%.3000s", p.path, want, text)
			}
		}
	}
	shot("memo")
	mu.Lock()
	defer mu.Unlock()
	if len(dialogs) != 0 {
		t.Errorf("dialogs opened: %q", dialogs)
	}
}

// The memo as HTML (the API's memo.html, also what `gatewise simulate
// --memo-html` writes) is a standalone file with no CSP to fall back on:
// every hostile name must arrive as escaped text.
func TestMemoHTMLEscapesHostileText(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	name := xssImg + " " + xssScript + " " + xssLink + " " + xssTmpl
	rec := do(t, h, "POST", "/api/v1/architectures", bytes.NewReader(hostileArchitecture(name)), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusCreated)
	var arch struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &arch)
	rec = do(t, h, "POST", "/api/v1/runs", strings.NewReader(`{"architecture_id": "`+arch.ID+`", "trials": 30}`), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusAccepted)
	var r apiRun
	json.Unmarshal(rec.Body.Bytes(), &r)
	waitFor(t, s, r.ID, store.RunDone)

	rec = do(t, h, "GET", "/api/v1/runs/"+r.ID+"/memo.html", nil, nil)
	wantStatus(t, rec, http.StatusOK)
	memo := rec.Body.String()
	// The page's own markup has no script, image, SVG or link at all, so
	// any of them would have come from a name.
	for _, markup := range []string{"<script", "<img", "<svg", "<a ", "javascript:window.__xss=1\"", "<!-- raw HTML omitted -->"} {
		if strings.Contains(strings.ToLower(memo), markup) {
			t.Errorf("memo.html holds %q:\n%s", markup, memo)
		}
	}
	// goldmark escapes <, >, " and & in text; the name is the heading and
	// the route names are in the context.
	for _, text := range []string{
		"<h1>Gateway decision: &lt;img src=x onerror=&quot;window.__xss=1&quot;&gt; &quot;&gt;&lt;script&gt;window.__xss=1&lt;/script&gt; [click](javascript:window.__xss=1) {{.Version}}{{template &quot;layout&quot; .}}</h1>",
		"&quot;&gt;&lt;script&gt;window.__xss=1&lt;/script&gt; 50 % (",
		"&lt;svg onload=alert(1)&gt;{{.Version}}{{template &quot;layout&quot; .}} 30 % (",
		"fence ``` &lt;img src=x onerror=&quot;window.__xss=1&quot;&gt; [click](javascript:window.__xss=1) 20 % (",
	} {
		if !strings.Contains(memo, text) {
			t.Errorf("memo.html lacks the escaped text %q:\n%s", text, memo)
		}
	}
}
