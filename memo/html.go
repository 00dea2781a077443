package memo

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"go.yaml.in/yaml/v3"
)

// FrontMatter is what makes a printed memo traceable: its status and date,
// the hash of its inputs and the gatewise version, trials and seed.
type FrontMatter struct {
	Title  string `yaml:"title"`
	Status string `yaml:"status"`
	// Chosen is the option the memo recommends (the one leaned to when
	// options are tied), for lists of runs.
	Chosen   string `yaml:"chosen"`
	Date     string `yaml:"date"`
	Inputs   string `yaml:"inputs"`
	Gatewise string `yaml:"gatewise"`
	Trials   int    `yaml:"trials"`
	Seed     uint64 `yaml:"seed"`
	ReviewBy string `yaml:"review-by"`
}

// SplitFrontMatter separates a memo's YAML front matter from its body; a
// memo without one has a zero FrontMatter.
func SplitFrontMatter(md []byte) (FrontMatter, []byte) {
	var fm FrontMatter
	if !bytes.HasPrefix(md, []byte("---\n")) {
		return fm, md
	}
	rest := md[4:]
	i := bytes.Index(rest, []byte("\n---\n"))
	if i < 0 {
		return fm, md
	}
	if err := yaml.Unmarshal(rest[:i], &fm); err != nil {
		return FrontMatter{}, rest[i+5:]
	}
	return fm, rest[i+5:]
}

var metaTemplate = template.Must(template.New("meta").Parse(`<dl class="memo-meta">
<div><dt>Status</dt><dd>{{.Status}}</dd></div>
<div><dt>Date</dt><dd>{{.Date}}</dd></div>
<div><dt>Review by</dt><dd>{{.ReviewBy}}</dd></div>
<div><dt>gatewise</dt><dd>{{.Gatewise}}</dd></div>
<div><dt>Trials, seed</dt><dd>{{.Trials}}, {{.Seed}}</dd></div>
<div class="memo-hash"><dt>Inputs</dt><dd><code>{{.Inputs}}</code></dd></div>
</dl>
`))

// HTML renders memo Markdown to an HTML fragment: the front matter as a
// short list (so a printed copy says which inputs it came from), then the
// memo. Tables are enabled and raw HTML stays disabled — goldmark's
// default — so nothing a user typed can become markup: inline HTML is
// omitted and unsafe link targets are dropped; the front matter's values
// are escaped by html/template.
func HTML(markdown []byte) ([]byte, error) {
	fm, body := SplitFrontMatter(markdown)
	var buf bytes.Buffer
	if fm.Status != "" {
		if err := metaTemplate.Execute(&buf, fm); err != nil {
			return nil, err
		}
	}
	// Alignment as the align attribute, not a style attribute: a page
	// with a strict Content-Security-Policy refuses inline styles, and the
	// numbers would lose their right alignment.
	md := goldmark.New(goldmark.WithExtensions(extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute))))
	if err := md.Convert(body, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Lead renders the memo's decision, the paragraph under its title, as an
// HTML fragment: what a page shows first, above the details. It is empty
// when the Markdown has no title.
func Lead(markdown []byte) ([]byte, error) {
	_, body := SplitFrontMatter(markdown)
	i := bytes.Index(body, []byte("\n# "))
	if !bytes.HasPrefix(body, []byte("# ")) && i < 0 {
		return nil, nil
	}
	if i >= 0 {
		body = body[i+1:]
	}
	_, rest, _ := bytes.Cut(body, []byte("\n"))
	rest = bytes.TrimLeft(rest, "\n")
	para, _, _ := bytes.Cut(rest, []byte("\n\n"))
	return HTML(para)
}

// pageCSS styles the standalone memo, on screen and printed on one A4 or
// Letter page. It is the page's only style, inline, so that a server can
// allow exactly it by its hash (PageStyleSource) under a strict
// Content-Security-Policy.
const pageCSS = `
:root{color:#1a1a1a;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{max-width:62rem;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.35rem;margin:.2rem 0 .6rem}
p{margin:.45rem 0}
.memo-meta{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;margin:0;font-size:.8rem;color:#555}
.memo-meta div{display:flex;gap:.3rem}.memo-meta dt{font-weight:600}.memo-meta dd{margin:0}
.memo-meta code{font-size:.75rem;overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:.82rem;margin:.5rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.2rem .35rem;vertical-align:top}
th{background:#f3f3f3}
td:not(:first-child),th:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.85em}
@media (max-width:40rem){table{display:block;overflow-x:auto}}
@page{margin:11mm}
@media print{:root{font-size:8.6pt;line-height:1.3}body{max-width:none;margin:0;padding:0}
h1{font-size:12.5pt}p{margin:.28rem 0}table{font-size:7.6pt}th,td{padding:.1rem .25rem}
.memo-meta{font-size:7.2pt}}
`

// PageStyleSource is the Content-Security-Policy source that allows the
// standalone memo's stylesheet and nothing else: 'sha256-…' of pageCSS.
func PageStyleSource() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
{{.Body}}
</body>
</html>
`))

// Page wraps the memo's HTML in a standalone document, for `--memo-html`
// and /runs/ID/memo.html. Its title is the memo's own heading, from the
// front matter's title.
func Page(markdown []byte) ([]byte, error) {
	body, err := HTML(markdown)
	if err != nil {
		return nil, err
	}
	fm, _ := SplitFrontMatter(markdown)
	title := "Gateway decision"
	if fm.Title != "" {
		title += ": " + fm.Title
	}
	var buf bytes.Buffer
	// Body is goldmark's output with raw HTML disabled and the front
	// matter escaped, so it is trusted as markup; the title goes through
	// html/template's escaping, and the stylesheet is a constant.
	err = pageTemplate.Execute(&buf, struct {
		Title string
		CSS   template.CSS
		Body  template.HTML
	}{title, template.CSS(pageCSS), template.HTML(body)})
	return buf.Bytes(), err
}
