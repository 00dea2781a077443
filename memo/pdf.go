package memo

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationmonoregular"
	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"codeberg.org/go-pdf/fpdf"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Paper is a page size for the PDF memo.
type Paper string

// The two paper sizes the memo prints on in one page.
const (
	A4     Paper = "A4"
	Letter Paper = "Letter"
)

// ParsePaper reads a paper size as a user writes it: "a4" (or nothing)
// or "letter", in any case.
func ParsePaper(s string) (Paper, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "a4":
		return A4, nil
	case "letter":
		return Letter, nil
	}
	return "", fmt.Errorf("paper %q: the memo prints on a4 or letter", s)
}

// PDF lays the memo out on one page of paper, for forwarding: the front
// matter in a line, then the memo's headings, paragraphs and table, in
// Liberation Sans (which carries every character the memo uses). It starts
// at 9 pt and steps the size down until the memo fits one page, so the PDF
// is always the single page the memo promises, or an error when even 6 pt
// would not hold it.
func PDF(markdown []byte, paper Paper) ([]byte, error) {
	fm, body := SplitFrontMatter(markdown)
	doc := goldmark.New(goldmark.WithExtensions(extension.Table)).Parser().Parse(text.NewReader(body))
	for size := 9.0; size >= 6; size -= 0.25 {
		pdf, pages, err := layout(fm, doc, body, paper, size)
		if err != nil {
			return nil, err
		}
		if pages == 1 {
			return pdf, nil
		}
	}
	return nil, errors.New("memo: the memo does not fit one page even at 6 pt")
}

// layout renders the memo at one font size and reports its pages.
func layout(fm FrontMatter, doc ast.Node, src []byte, paper Paper, size float64) ([]byte, int, error) {
	p := fpdf.New("P", "mm", string(paper), "")
	p.SetMargins(12, 11, 12)
	p.SetAutoPageBreak(true, 11)
	p.AddUTF8FontFromBytes("sans", "", liberationsansregular.TTF)
	p.AddUTF8FontFromBytes("sans", "B", liberationsansbold.TTF)
	p.AddUTF8FontFromBytes("mono", "", liberationmonoregular.TTF)
	p.SetTitle("Gateway decision: "+fm.Title, true)
	p.SetCreator("gatewise "+fm.Gatewise, true)
	p.SetCompression(true)
	p.AddPage()
	w := pdfWriter{p: p, src: src, size: size, line: size * 0.45}
	if fm.Status != "" {
		p.SetFont("sans", "", size-1.5)
		p.SetTextColor(85, 85, 85)
		p.MultiCell(0, w.line*0.9, fmt.Sprintf("Status %s · %s · review by %s · gatewise %s · %d trials, seed %d · inputs %s",
			fm.Status, fm.Date, fm.ReviewBy, fm.Gatewise, fm.Trials, fm.Seed, fm.Inputs), "", "L", false)
		p.SetTextColor(26, 26, 26)
		p.Ln(1)
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		w.block(n)
	}
	if err := p.Error(); err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), p.PageCount(), nil
}

type pdfWriter struct {
	p          *fpdf.Fpdf
	src        []byte
	size, line float64
}

func (w *pdfWriter) block(n ast.Node) {
	switch n := n.(type) {
	case *ast.Heading:
		w.p.SetFont("sans", "B", w.size+3)
		w.p.MultiCell(0, w.line*1.4, plainText(n, w.src), "", "L", false)
		w.p.Ln(0.8)
	case *ast.Paragraph:
		w.inline(n, "")
		w.p.Ln(w.line + 1.2)
	case *east.Table:
		w.table(n)
		w.p.Ln(1.2)
	default:
		if s := plainText(n, w.src); s != "" {
			w.p.SetFont("sans", "", w.size)
			w.p.MultiCell(0, w.line, s, "", "L", false)
		}
	}
}

// inline writes a paragraph's runs with the wrapping Write gives: bold for
// strong emphasis, monospace for code.
func (w *pdfWriter) inline(n ast.Node, style string) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			w.p.SetFont("sans", style, w.size)
			t := string(util.UnescapePunctuations(c.Segment.Value(w.src)))
			if c.SoftLineBreak() || c.HardLineBreak() {
				t += " "
			}
			w.p.Write(w.line, t)
		case *ast.String:
			w.p.SetFont("sans", style, w.size)
			w.p.Write(w.line, string(c.Value))
		case *ast.CodeSpan:
			w.p.SetFont("mono", "", w.size-0.5)
			w.p.Write(w.line, plainText(c, w.src))
		case *ast.Emphasis:
			st := style
			if c.Level == 2 {
				st = "B"
			}
			w.inline(c, st)
		default:
			w.inline(c, style)
		}
	}
}

// table lays the options table out in columns as wide as their widest
// cell, shrunk together to the page's width, numbers right-aligned.
func (w *pdfWriter) table(t *east.Table) {
	var rows [][]string
	var header []bool
	for r := t.FirstChild(); r != nil; r = r.NextSibling() {
		var cells []string
		for c := r.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, plainText(c, w.src))
		}
		rows = append(rows, cells)
		_, isHead := r.(*east.TableHeader)
		header = append(header, isHead)
	}
	if len(rows) == 0 {
		return
	}
	cols := len(rows[0])
	size := w.size - 1
	widths := make([]float64, cols)
	for i, row := range rows {
		for j, cell := range row {
			if j >= cols {
				continue
			}
			w.p.SetFont("sans", map[bool]string{true: "B", false: ""}[header[i]], size)
			widths[j] = max(widths[j], w.p.GetStringWidth(cell)+2)
		}
	}
	left, _, right, _ := w.p.GetMargins()
	page, _ := w.p.GetPageSize()
	avail, total := page-left-right, 0.0
	for _, x := range widths {
		total += x
	}
	scale := 1.0
	if total > avail {
		// Shrink the text with the columns, so no cell overflows.
		scale = avail / total
		size *= scale
		for j := range widths {
			widths[j] *= scale
		}
	}
	h := size * 0.5
	for i, row := range rows {
		style := ""
		if header[i] {
			style = "B"
			w.p.SetFillColor(243, 243, 243)
		}
		w.p.SetFont("sans", style, size)
		for j := range cols {
			cell := ""
			if j < len(row) {
				cell = row[j]
			}
			align := "R"
			if j == 0 {
				align = "L"
			}
			w.p.CellFormat(widths[j], h, cell, "1", 0, align, header[i], 0, "")
		}
		w.p.Ln(h)
	}
}

// plainText is a node's text with Markdown's escapes resolved.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		switch n := n.(type) {
		case *ast.Text:
			b.Write(util.UnescapePunctuations(n.Segment.Value(src)))
			if n.SoftLineBreak() {
				b.WriteByte(' ')
			}
			return
		case *ast.String:
			b.Write(n.Value)
			return
		}
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
