package server

import (
	"html/template"
	"regexp"
	"strings"
	"testing"

	"gatewise/pricing"
)

// esc escapes text the way the page templates do (html/template also
// escapes + and NUL, which html.EscapeString leaves alone).
func esc(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	if err := template.Must(template.New("").Parse("{{.}}")).Execute(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// modelRows pulls the models table's rows out of the page, as
// "model|host" pairs.
func modelRows(t *testing.T, body string) []string {
	t.Helper()
	start := strings.Index(body, `id="catalog-models-table"`)
	end := strings.Index(body, `id="catalog-gateways"`)
	if start < 0 || end < start {
		t.Fatalf("no models table in\n%.3000s", body)
	}
	re := regexp.MustCompile(`<tr>\s*<td><code>([^<]+)</code><br><span class="hint">[^<]*</span></td>\s*<td>([^<]+)<br><code>`)
	var rows []string
	for _, m := range re.FindAllStringSubmatch(body[start:end], -1) {
		rows = append(rows, m[1]+"|"+m[2])
	}
	return rows
}

func TestCatalogListsEverythingWithProvenance(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := do(t, h, "GET", "/catalog", nil, nil)
	wantStatus(t, rec, 200)
	body := rec.Body.String()
	cat := pricing.Default()

	wantBody(t, rec, `href="#catalog-providers"`, `href="#catalog-models"`, `href="#catalog-gateways"`,
		"newest is from "+cat.AsOf())
	for _, p := range cat.Providers() {
		wantBody(t, rec, `id="provider-`+p.ID+`"`, "<code>"+p.ID+"</code>", esc(t, p.Name))
		for _, r := range p.Regions {
			wantBody(t, rec, "<code>"+r.ID+"</code> ("+r.Jurisdiction+")")
		}
		for _, r := range p.Residency {
			wantBody(t, rec, "<code>"+r.ID+"</code>", "as of "+r.AsOf+" · "+esc(t, r.Source))
		}
		for _, f := range []pricing.Fact{p.Compliance.SOC2, p.Compliance.HIPAABAA, p.Compliance.ZeroDataRetention} {
			wantBody(t, rec, "as of "+f.AsOf+" · "+esc(t, f.Source))
		}
	}
	for _, g := range cat.Gateways() {
		wantBody(t, rec, `id="gateway-`+g.ID+`"`, esc(t, g.Name))
		for _, p := range g.Plans {
			wantBody(t, rec, "<code>"+p.ID+"</code>", esc(t, p.Source))
		}
	}

	// gpt-4.1 on openai: $2 in, $8 out, $0.5 cache read, cache writes at the input price.
	row := regexp.MustCompile(`<td><code>gpt-4.1</code>.*?</tr>`).FindString(strings.ReplaceAll(body, "\n", " "))
	for _, want := range []string{"<td>openai<br><code>gpt-4.1</code></td>", `<td class="num">$2</td>`, `<td class="num">$8</td>`, `<td class="num">$0.5</td>`, "2026-07-24", "key gpt-4.1</p>"} {
		if !strings.Contains(row, want) {
			t.Errorf("gpt-4.1 row lacks %q:\n%s", want, row)
		}
	}
	wantBody(t, rec, "above 272,000 prompt tokens<br>input $5<br>output $22.5", "$124.1 a month", "$2,000 a month (our estimate")

	// One row per model and host.
	total := 0
	for _, m := range cat.Models() {
		total += len(m.Offers)
	}
	if got := len(modelRows(t, body)); got != total {
		t.Errorf("%d model rows, want %d", got, total)
	}

	// Sources and notes are text, never markup.
	wantBody(t, rec, "the official SDKs&#39; defaults: github.com/openai/openai-python", "inference_geo &#34;us&#34; exists")
	if strings.Contains(body, "<script") {
		t.Error("page contains a script tag")
	}
}

func TestCatalogProviderFilterNarrowsModels(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := do(t, h, "GET", "/catalog?provider=openai", nil, nil)
	wantStatus(t, rec, 200)
	wantBody(t, rec, `<option value="openai" selected>`, "hosted by OpenAI", "Show every provider")
	rows := modelRows(t, rec.Body.String())
	want := 0
	for _, m := range pricing.Default().Models() {
		for _, o := range m.Offers {
			if o.Provider == "openai" {
				want++
			}
		}
	}
	if len(rows) != want || want == 0 {
		t.Fatalf("%d rows, want %d openai offers", len(rows), want)
	}
	for _, r := range rows {
		if !strings.HasSuffix(r, "|openai") {
			t.Errorf("row %s is not hosted by openai", r)
		}
	}
	if !strings.Contains(strings.Join(rows, " "), "gpt-4.1|openai") {
		t.Errorf("gpt-4.1 on openai missing from %v", rows)
	}
	// The providers and gateways sections are not filtered.
	wantBody(t, rec, `id="provider-anthropic"`, `id="gateway-litellm"`)
}

func TestCatalogUnknownProviderSaysSo(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := do(t, h, "GET", "/catalog?provider=opnai", nil, nil)
	wantStatus(t, rec, 200)
	wantBody(t, rec, "There is no provider “opnai” in the catalog", `did you mean <a href="/catalog?provider=openai#catalog-models">openai</a>`)
	if rows := modelRows(t, rec.Body.String()); len(rows) < 2 || strings.Contains(rec.Body.String(), " selected>") {
		t.Errorf("an unknown provider should show every model, unfiltered; got %d rows", len(rows))
	}
}

func TestCatalogEscapesHostileFilter(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := do(t, h, "GET", "/catalog?provider=%3Cscript%3Ealert(1)%3C/script%3E", nil, nil)
	wantStatus(t, rec, 200)
	wantBody(t, rec, "There is no provider “&lt;script&gt;alert(1)&lt;/script&gt;”")
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Error("the query value reached the page unescaped")
	}
}

func TestCatalogPlainNumberKeepsDecimalsExact(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{124.1: "124.1", 0.025: "0.025", 2000: "2,000", 1234567.5: "1,234,567.5", -1500: "-1,500", 0: "0"} {
		if got := plainNumber(in); got != want {
			t.Errorf("plainNumber(%v) = %q, want %q", in, got, want)
		}
	}
}
