package memo

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// HTML renders memo Markdown to an HTML fragment. The front matter is
// dropped (it is metadata, not prose), tables are enabled, and raw HTML
// stays disabled — goldmark's default — so nothing a user typed can become
// markup: inline HTML is omitted and unsafe link targets are dropped.
func HTML(markdown []byte) ([]byte, error) {
	md := goldmark.New(goldmark.WithExtensions(extension.Table))
	var buf bytes.Buffer
	if err := md.Convert(stripFrontMatter(markdown), &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Page wraps the memo's HTML in a standalone document, for
// `--memo-html`. The title is escaped by html/template.
func Page(title string, markdown []byte) ([]byte, error) {
	body, err := HTML(markdown)
	if err != nil {
		return nil, err
	}
	t, err := template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem}
td:not(:first-child){text-align:right}pre{background:#f5f5f5;padding:1rem;overflow-x:auto}
</style>
</head>
<body>
{{.Body}}
</body>
</html>
`)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// Body is goldmark's output with raw HTML disabled, so it is trusted
	// as markup; everything else goes through html/template's escaping.
	err = t.Execute(&buf, struct {
		Title string
		Body  template.HTML
	}{"Gateway decision: " + title, template.HTML(body)})
	return buf.Bytes(), err
}

// stripFrontMatter removes a leading YAML front matter block.
func stripFrontMatter(md []byte) []byte {
	if !bytes.HasPrefix(md, []byte("---\n")) {
		return md
	}
	rest := md[4:]
	if i := bytes.Index(rest, []byte("\n---\n")); i >= 0 {
		return rest[i+5:]
	}
	return md
}
