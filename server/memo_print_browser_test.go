package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"gatewise/memo"
)

// pdfPage matches a page object's type in a PDF (not the /Pages tree).
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// papers are the sizes the memo promises to print on in one page.
var papers = []struct {
	name string
	size chromedp.PaperSize
}{{"A4", chromedp.PaperA4}, {"Letter", chromedp.PaperLetter}}

// printedPages prints the current page as a browser's Print does, with
// the page's own @page margins, and counts the pages.
func printedPages(t *testing.T, ctx context.Context, size chromedp.PaperSize) int {
	t.Helper()
	pdf := run(t, ctx, chromedp.PrintToPDF(chromedp.PDFPaper(size), chromedp.PDFPrintBackground()))
	return len(pdfPage.FindAll(pdf, -1))
}

// Every golden memo's HTML page prints on one page of A4 and of Letter.
func TestBrowserGoldenMemosPrintOnOnePage(t *testing.T) {
	ctx, _, shot := browserTest(t)
	goldens, err := filepath.Glob("../testdata/memo/*.golden.md")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden memos in ../testdata/memo (%v)", err)
	}
	dir := t.TempDir()
	// The count itself: three memos end to end take more than one page.
	md, err := os.ReadFile(goldens[0])
	if err != nil {
		t.Fatal(err)
	}
	long, err := memo.Page(bytes.Repeat(md, 3))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "three.html")
	if err := os.WriteFile(file, long, 0o644); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("table")))
	if n := printedPages(t, ctx, chromedp.PaperA4); n < 2 {
		t.Fatalf("three memos end to end print on %d page(s): the page count is wrong", n)
	}
	for _, golden := range goldens {
		md, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		html, err := memo.Page(md)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, filepath.Base(golden)+".html")
		if err := os.WriteFile(file, html, 0o644); err != nil {
			t.Fatal(err)
		}
		steps(t, ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("table")))
		shot(filepath.Base(golden))
		for _, p := range papers {
			if n := printedPages(t, ctx, p.size); n != 1 {
				t.Errorf("%s prints on %d pages of %s, want 1", filepath.Base(golden), n, p.name)
			}
		}
	}
}
