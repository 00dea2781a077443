package server

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// priceFileForm is what the browser posts from /catalog/prices.
func priceFileForm(t testing.TB, name string, data []byte, threshold string) (*bytes.Buffer, http.Header) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if threshold != "" {
		w.WriteField("threshold", threshold)
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
	body, hdr := priceFileForm(t, "litellm-small.json", data, "5")
	rec := do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	// The fixture prices gpt-4.1 input at 2.2e-06 a token, $2.20 a million,
	// against the catalog's $2 (OpenAI's list price): +10 %.
	wantBody(t, rec, "litellm file", "<td>gpt-4.1</td><td>openai</td><td>input</td><td class=\"num\">$2</td><td class=\"num\">$2.2</td><td class=\"num\">&#43;10.0 %</td>", // html/template escapes +
		"2 entries price a model the catalog knows. Left out: 1 × LiteLLM schema example, 1 × file metadata,",
		"1 price differs by more than 5 %")

	body, hdr = priceFileForm(t, "litellm-small.json", data, "1000")
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
			body, hdr := priceFileForm(t, name, []byte(c.file), c.threshold)
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
	body, hdr := priceFileForm(t, "model_prices_and_context_window.json", data, "5")
	rec := do(t, h, "POST", "/catalog/prices", body, hdr)
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "<h2>model_prices_and_context_window.json</h2>", "litellm file", "a model the catalog knows")
}
