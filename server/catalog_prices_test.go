package server

import (
	"bytes"
	"encoding/json"
	"math"
	"mime/multipart"
	"net/http"
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
		"2 entries price a model the catalog knows. Left out: 1 × LiteLLM schema example, 1 × file metadata,",
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
		{"no file", "", "5", "file: choose a LiteLLM, OpenRouter or Portkey price file"},
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
	wantBody(t, rec, "<h2>model_prices_and_context_window.json</h2>", "litellm file", "a model the catalog knows")
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
