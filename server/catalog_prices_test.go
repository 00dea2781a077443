package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatewise/server/store"
	"gatewise/simulator"
)

// priceFileForm is what the browser posts from /catalog/prices.
func priceFileForm(t testing.TB, name string, data []byte, threshold string, keep bool) (*bytes.Buffer, http.Header) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if threshold != "" {
		w.WriteField("threshold", threshold)
	}
	if keep {
		w.WriteField("keep", "1")
	}
	if name != "" {
		part, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(data)
	}
	w.Close()
	return &body, http.Header{"Content-Type": {w.FormDataContentType()}}
}

func TestCheckPriceFile(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	wantBody(t, do(t, h, "GET", "/catalog", nil, nil), `href="/catalog/prices"`)
	wantBody(t, do(t, h, "GET", "/catalog/prices", nil, nil), `enctype="multipart/form-data"`, `name="threshold" value="5"`)

	data, err := os.ReadFile(filepath.Join("..", "pricing", "testdata", "litellm-small.json"))
	if err != nil {
		t.Fatal(err)
	}
	body, hdr := priceFileForm(t, "litellm-small.json", data, "5", false)
	rec := do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	// The fixture prices gpt-4.1 input at 2.2e-06 a token, $2.20 a million,
	// against the catalog's $2 (OpenAI's list price): +10 %.
	wantBody(t, rec, "litellm file", "<td>gpt-4.1</td><td>openai</td><td>input</td><td class=\"num\">$2</td><td class=\"num\">$2.2</td><td class=\"num\">&#43;10.0 %</td>", // html/template escapes +
		"pricing 2 catalog hosts (a model on a provider). Left out: 1 × LiteLLM schema example, 1 × file metadata,",
		"1 price differs by more than 5 %")

	body, hdr = priceFileForm(t, "litellm-small.json", data, "1000", false)
	wantBody(t, do(t, h, "POST", "/catalog/prices", body, hdr), "No price differs by more than 1000 %.")
}

func TestCheckPriceFileRefusesBadInput(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	for _, c := range []struct {
		name, file, threshold, says string
	}{
		{"not JSON", "{\n  \"gpt-4.1\": {\"input_cost_per_token\": 2e-06,,}\n}", "5", "prices.json:2:"},
		{"negative price", `{"gpt-4.1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": -1, "output_cost_per_token": 8e-06}}`, "5", "gpt-4.1"},
		{"bad threshold", `{}`, "lots", "threshold: give a percentage"},
		{"no file", "", "5", "file: choose a LiteLLM, OpenRouter, Portkey, genai-prices or Helicone price file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "prices.json"
			if c.file == "" {
				name = ""
			}
			body, hdr := priceFileForm(t, name, []byte(c.file), c.threshold, false)
			rec := do(t, h, "POST", "/catalog/prices", body, hdr)
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			wantBody(t, rec, `role="alert"`, c.says)
		})
	}
	rec := do(t, h, "POST", "/catalog/prices", strings.NewReader("threshold=5"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "multipart/form-data")
}

// LiteLLM's real file (1.5 MB, 2,000+ entries) goes through the page.
func TestCheckPriceFileRealLiteLLM(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../shared/data/litellm-prices/model_prices_and_context_window.json")
	if err != nil {
		t.Skipf("needs ../shared/data/litellm-prices (the shared data folder beside the repo): %v", err)
	}
	_, h := newTestServer(t)
	body, hdr := priceFileForm(t, "model_prices_and_context_window.json", data, "5", false)
	rec := do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "<h2>model_prices_and_context_window.json</h2>", "litellm file", "catalog hosts (a model on a provider)")
}

// A kept price file prices a run: at ten times the catalog's prices for
// every model of the example, the direct option's monthly cost is ten times
// the catalog run's, on the same seed and so the same traffic.
func TestKeptPriceFilePricesARun(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	// The catalog's OpenAI list prices (pricing/data/models.yaml) times ten.
	file := `{
  "gpt-4.1-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06, "output_cost_per_token": 1.6e-05},
  "gpt-4.1-nano": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06}
}`
	body, hdr := priceFileForm(t, "tenfold.json", []byte(file), "5", true)
	rec := do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	m := regexp.MustCompile(`Kept as price file <code>([a-z2-7]{12})</code>`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no kept file in\n%.3000s", rec.Body)
	}
	id := create(t, h, loadExample(t, "single-provider"))
	wantBody(t, do(t, h, "GET", "/architectures/"+id, nil, nil), `<option value="`+m[1]+`">tenfold.json (litellm`)

	cost := func(priceFile string) float64 {
		t.Helper()
		rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}, "price_file_id": {priceFile}})
		wantStatus(t, rec, http.StatusSeeOther)
		run := waitFor(t, s, runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1], store.RunDone, store.RunFailed)
		if run.Status != store.RunDone {
			t.Fatalf("run = %+v", run)
		}
		if priceFile != "" {
			wantBody(t, do(t, h, "GET", "/runs/"+run.ID, nil, nil), "priced with tenfold.json (litellm) over the catalog")
		}
		var res simulator.Result
		if err := json.Unmarshal(run.Result, &res); err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Results {
			if r.Scenario == "baseline" && r.Gateway == "direct" {
				return r.CostUSD.Total.P50
			}
		}
		t.Fatal("no baseline direct result")
		return 0
	}
	catalog, tenfold := cost(""), cost(m[1])
	if catalog <= 0 {
		t.Fatalf("catalog run cost $%v; want a positive cost", catalog)
	}
	if ratio := tenfold / catalog; !(math.Abs(ratio-10) <= 1e-9) {
		t.Errorf("cost with the file / with the catalog = %.12f ($%.2f / $%.2f), want 10", ratio, tenfold, catalog)
	}

	rec = postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}, "price_file_id": {"aaaaaaaaaaaa"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "That price file is not kept in gatewise.")
	api := do(t, h, "POST", "/api/v1/runs", strings.NewReader(`{"architecture_id": "`+id+`", "price_file_id": "aaaaaaaaaaaa"}`),
		http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, api, http.StatusUnprocessableEntity)
	wantBody(t, api, `"price_file_id":"is not a kept price file"`)
}

func TestUSDPerMillion(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{
		0.08333333333333334: "$0.0833333", // an OpenRouter per-token price, times a million
		3:                   "$3",
		0.075:               "$0.075",
		1.25:                "$1.25",
		150:                 "$150",
		0.000123456789:      "$0.000123457",
	} {
		if got := usdPerMillion(v); got != want {
			t.Errorf("usdPerMillion(%v) = %s, want %s", v, got, want)
		}
	}
}

// genai-prices' data file: a subset of prices/new_data/v2/data.json of
// pydantic/genai-prices at 47df840 (2026-08-21); Helicone's llm-costs JSON
// written to bifrost/app/api/llm-costs/route.ts of Helicone/helicone (see
// pricing/importer_helicone_test.go for the rows' sources).
func sampleFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "pricing", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dayForm is priceFileForm with the "Prices in force on" day.
func dayForm(t *testing.T, name string, data []byte, day string) (*bytes.Buffer, http.Header) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("threshold", "5")
	w.WriteField("day", day)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	return &body, http.Header{"Content-Type": {w.FormDataContentType()}}
}

func TestCheckGenAIAndHeliconeFiles(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	genai := sampleFile(t, "genai-prices-small.json")
	body, hdr := priceFileForm(t, "data.json", genai, "5", false)
	rec := do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	// Today (after 2026-09-01) Sonnet 5 is at $3/$15 in the file, $2/$10 in
	// the catalog (2026-07-24).
	wantBody(t, rec, "genai-prices file", "20 entries, pricing 25 catalog hosts", "2 × provider not in the catalog",
		"<td>claude-sonnet-5</td><td>anthropic</td><td>input</td><td class=\"num\">$2</td><td class=\"num\">$3</td>",
		"Dated prices in the file", "<td>claude-sonnet-5</td><td>anthropic</td><td class=\"date\">until 2026-08-31</td><td class=\"num\">$2</td><td class=\"num\">$10</td>",
		"<td class=\"date\">from 2026-09-01</td><td class=\"num\">$3</td><td class=\"num\">$15</td><td></td><td class=\"date\">● in force</td>",
		"$10 / $37.5 over 200,000 tokens")

	body, hdr = dayForm(t, "data.json", genai, "2026-08-31")
	rec = do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "compared as in force on 2026-08-31", "<td class=\"date\">until 2026-08-31</td><td class=\"num\">$2</td><td class=\"num\">$10</td><td></td><td class=\"date\">● in force</td>")
	if strings.Contains(rec.Body.String(), "<td>claude-sonnet-5</td><td>anthropic</td><td>input</td>") {
		t.Error("on 2026-08-31 the file agrees with the catalog on Sonnet 5, yet a difference is listed")
	}
	body, hdr = dayForm(t, "data.json", genai, "31.08.2026")
	rec = do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `role="alert"`, "day: give a date as YYYY-MM-DD")

	body, hdr = priceFileForm(t, "llm-costs.json", sampleFile(t, "helicone-llm-costs-small.json"), "5", false)
	rec = do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	// Helicone's equals "gpt-4o" row is $5 against the catalog's $2.50.
	wantBody(t, rec, "helicone file", "25 entries, pricing 19 catalog hosts", "1 × price beyond any real model&#39;s (over $5000 per million tokens)",
		"<td>gpt-4o</td><td>openai</td><td>input</td><td class=\"num\">$2.5</td><td class=\"num\">$5</td>", "OPENAI gpt-4o (equals) (line 161)")

	bad := strings.Replace(string(genai), `"start_date": "2026-09-01"`, `"start_date": "next month"`, 1)
	body, hdr = priceFileForm(t, "data.json", []byte(bad), "5", false)
	rec = do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `role="alert"`, "data.json:", "anthropic/claude-sonnet-5", "prices[1].constraint.start_date: &#34;next month&#34; is not a date")
}

// sonnet5 routes everything to claude-sonnet-5, which genai-prices prices
// at $2/$10 until 2026-08-31 and $3/$15 from 2026-09-01.
const sonnet5 = `name: Sonnet 5 only
horizon_days: 30
providers:
  - id: anthropic
    regions: [global]
routes:
  - name: chat
    share: 1
    models: [claude-sonnet-5]
    input_tokens: 1000
    output_tokens: 200
traffic:
  requests_per_day: 1000
  origin: {us: 1}
compliance: {soc2: false, hipaa: false, zero_data_retention: false, no_third_party_in_path: false}
priorities: {failover: 0.4, cost: 0.4, observability: 0.2}
team: {engineers: 2, ops_hourly_usd: 100}
observability_needs: []
gateways: [direct]
scenarios: [baseline]
simulation: {trials: 20, seed: 3}
`

// A run replaying an August 2026 log, priced with genai-prices' file at
// the log's first day, pays Sonnet 5's introductory price; at today's (the
// day the run is queued) half as much again.
func TestDatedPriceFilePricesALogRunAtItsDay(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	startRunner(t, s)
	body, hdr := priceFileForm(t, "data.json", sampleFile(t, "genai-prices-small.json"), "5", true)
	rec := do(t, h, "POST", "/catalog/prices", body, hdr)
	m := regexp.MustCompile(`Kept as price file <code>([a-z2-7]{12})</code>`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no kept file in\n%.3000s", rec.Body)
	}
	pf := m[1]
	spec, err := simulator.Load([]byte(sonnet5), s.catalog)
	if err != nil {
		t.Fatal(err)
	}
	id := create(t, h, spec)
	var log strings.Builder
	log.WriteString("ts,engine,prompt_tokens,completion_tokens\n")
	for i := range 120 {
		fmt.Fprintf(&log, "2026-08-20T%02d:%02d:00Z,claude-sonnet-5,1000,200\n", 9+i/60, i%60)
	}
	rec = upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"format": "csv", "map": logMap}, log.String())
	wantStatus(t, rec, http.StatusSeeOther)
	upID := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	wantBody(t, do(t, h, "GET", "/uploads/"+upID, nil, nil), `<option value="`+pf+`">data.json (genai-prices`, `<option value="log">the log's first day (2026-08-20)</option>`)

	tokens := func(asOf string) float64 {
		t.Helper()
		rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"20"}, "upload_id": {upID}, "price_file_id": {pf}, "price_as_of": {asOf}})
		wantStatus(t, rec, http.StatusSeeOther)
		run := waitFor(t, s, runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1], store.RunDone, store.RunFailed)
		if run.Status != store.RunDone {
			t.Fatalf("run = %+v", run)
		}
		if asOf == "log" {
			wantBody(t, do(t, h, "GET", "/runs/"+run.ID, nil, nil), "data.json (genai-prices), at the prices of the log&#39;s first day")
		}
		var res simulator.Result
		if err := json.Unmarshal(run.Result, &res); err != nil {
			t.Fatal(err)
		}
		return res.Results[0].CostUSD.Tokens
	}
	atLog, atToday := tokens("log"), tokens("today")
	if atLog <= 0 || math.Abs(atToday/atLog-1.5) > 1e-9 {
		t.Errorf("tokens at the log's day $%v, today $%v: ratio %v, want 1.5", atLog, atToday, atToday/atLog)
	}

	api := func(body string) *httptest.ResponseRecorder {
		return do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	}
	rec = api(`{"architecture_id": "` + id + `", "price_file_id": "` + pf + `", "price_as_of": "log"}`)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `"price_as_of":"log prices the run at its uploaded log's first day; the run has no upload_id"`)
	rec = api(`{"architecture_id": "` + id + `", "price_file_id": "` + pf + `", "price_as_of": "last week"}`)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `is not today, log or a day YYYY-MM-DD`)
	rec = api(`{"architecture_id": "` + id + `", "price_as_of": "2026-08-31"}`)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `the run has no price_file_id`)
	rec = api(`{"architecture_id": "` + id + `", "upload_id": "` + upID + `", "price_file_id": "` + pf + `", "price_as_of": "2026-08-31"}`)
	wantStatus(t, rec, http.StatusAccepted)
}
