package memo

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// pdfPage matches a page object's type in a PDF (not the /Pages tree).
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// readableSize is the smallest font size, in points, at which the golden
// memos must fit their one page: PDF shrinks further only for memos longer
// than any the examples make, and a memo printed below it is hard to read.
const readableSize = 8.0

func goldenMemo(t *testing.T, name string) []byte {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(dir(), name+".golden.md"))
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestPDFIsOnePage(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases() {
		for _, paper := range []Paper{A4, Letter} {
			t.Run(c.name+"/"+string(paper), func(t *testing.T) {
				t.Parallel()
				md := goldenMemo(t, c.name)
				pdf, err := PDF(md, paper)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
					t.Fatalf("PDF starts %q", pdf[:min(8, len(pdf))])
				}
				if n := len(pdfPage.FindAll(pdf, -1)); n != 1 {
					t.Errorf("PDF has %d pages, want 1", n)
				}
				fm, body := SplitFrontMatter(md)
				doc := goldmark.New(goldmark.WithExtensions(extension.Table)).Parser().Parse(text.NewReader(body))
				if _, pages, err := layout(fm, doc, body, paper, readableSize); err != nil || pages != 1 {
					t.Errorf("at %v pt the memo takes %d pages (err %v), want 1", readableSize, pages, err)
				}
			})
		}
	}
}

func TestPDFRefusesWhatCannotFit(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte("A paragraph of the memo that goes on and on to fill the page. "), 40)
	var md []byte
	for range 15 {
		md = append(append(md, long...), "\n\n"...)
	}
	if _, err := PDF(md, A4); err == nil {
		t.Error("PDF of a memo of many pages succeeded, want an error saying it does not fit")
	}
}

// The page's one stylesheet is the one PageStyleSource allows, so the
// server's Content-Security-Policy lets it apply.
func TestPageStyleMatchesItsHash(t *testing.T) {
	t.Parallel()
	page, err := Page(goldenMemo(t, "multi-region"))
	if err != nil {
		t.Fatal(err)
	}
	styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllSubmatch(page, -1)
	if len(styles) != 1 {
		t.Fatalf("page has %d style elements, want 1", len(styles))
	}
	sum := sha256.Sum256(styles[0][1])
	if got := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; got != PageStyleSource() {
		t.Errorf("style hash %s, PageStyleSource %s", got, PageStyleSource())
	}
	if n := bytes.Count(page, []byte("<title>")); n != 1 {
		t.Errorf("page has %d titles", n)
	}
	if !bytes.Contains(page, []byte(`<title>Gateway decision: `)) {
		t.Errorf("page title does not name the decision")
	}
}
