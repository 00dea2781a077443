package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"gatewise/pricing"
	"gatewise/server/store"
)

// maxPriceFileBody admits the largest price file the importer accepts plus
// the multipart framing around it.
const maxPriceFileBody = pricing.MaxImportBytes + 64<<10

// PriceFilePage shows what a LiteLLM, OpenRouter or Portkey price file says
// differently from the catalog, so a user can see how stale either side is
// before trusting a memo's costs.
type PriceFilePage struct {
	Layout
	Threshold string // percent, as typed
	Error     string // why the file or a field was refused
	Checked   bool   // a file was read
	FileName  string
	Format    string
	FileAsOf  string
	Imported  int
	Skipped   []PriceFileSkip
	Diffs     []PriceFileDiff
	Kept      string // the kept file's id, when the user chose to keep it
}

// PriceFileSkip counts the file's entries left out for one reason.
type PriceFileSkip struct {
	Reason string
	Count  int
}

// PriceFileDiff is one price the file and the catalog disagree on.
type PriceFileDiff struct {
	Model, Provider, Field string
	Catalog, File, Change  string
	CatalogAsOf            string
	Where                  string // file key and line
}

func (s *Server) priceFilePage(threshold string) PriceFilePage {
	return PriceFilePage{Layout: Layout{Title: "Check a price file", Nav: "catalog", Version: s.cfg.Version}, Threshold: threshold}
}

// showPriceFileForm is the empty form at /catalog/prices.
func (s *Server) showPriceFileForm(c *gin.Context) {
	s.render(c, http.StatusOK, "catalog_prices", s.priceFilePage("5"))
}

// checkPriceFile reads an uploaded price file and lists the prices it
// contradicts by more than the threshold. The file is stored only when the
// user ticks "keep"; then a run can be priced with it over the catalog.
func (s *Server) checkPriceFile(c *gin.Context) {
	page := s.priceFilePage(strings.TrimSpace(c.PostForm("threshold")))
	refuse := func(msg string) {
		page.Error = msg
		s.render(c, http.StatusUnprocessableEntity, "catalog_prices", page)
	}
	defer func() {
		if c.Request.MultipartForm != nil {
			c.Request.MultipartForm.RemoveAll()
		}
	}()
	if err := c.Request.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(c, err)
			return
		}
		refuse("Send the form as multipart/form-data with the price file in the file field.")
		return
	}
	page.Threshold = strings.TrimSpace(c.Request.FormValue("threshold"))
	if page.Threshold == "" {
		page.Threshold = "5"
	}
	pct, err := strconv.ParseFloat(page.Threshold, 64)
	if err != nil || pct < 0 || pct > 1000 {
		refuse("threshold: give a percentage from 0 to 1000, such as 5.")
		return
	}
	fh, err := c.FormFile("file")
	if err != nil {
		refuse("file: choose a LiteLLM, OpenRouter or Portkey price file (JSON).")
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, pricing.MaxImportBytes+1))
	if err != nil {
		s.fail(c, err)
		return
	}
	o, rep, err := s.catalog.Import(bytes.NewReader(data), fh.Filename)
	if err != nil {
		var bad *pricing.ImportError
		if errors.As(err, &bad) {
			refuse(err.Error())
			return
		}
		s.fail(c, err)
		return
	}
	page.Checked, page.FileName, page.Format, page.FileAsOf, page.Imported = true, fh.Filename, rep.Format, o.AsOf, rep.Imported
	if c.Request.FormValue("keep") != "" {
		if rep.Imported == 0 {
			refuse("keep: the file prices no model the catalog knows, so it would change no run.")
			return
		}
		pf := store.PriceFile{Name: filepath.Base(fh.Filename), Format: rep.Format, AsOf: o.AsOf, Data: data}
		if err := s.store.CreatePriceFile(c.Request.Context(), &pf); err != nil {
			s.fail(c, err)
			return
		}
		page.Kept = pf.ID
	}
	if page.FileAsOf == "" {
		page.FileAsOf = "undated"
	}
	for reason, n := range rep.Skipped {
		page.Skipped = append(page.Skipped, PriceFileSkip{reason, n})
	}
	sort.Slice(page.Skipped, func(i, j int) bool {
		a, b := page.Skipped[i], page.Skipped[j]
		return a.Count > b.Count || a.Count == b.Count && a.Reason < b.Reason
	})
	for _, d := range s.catalog.Diff(o, pct/100) {
		page.Diffs = append(page.Diffs, PriceFileDiff{
			Model: d.Model, Provider: d.Provider, Field: d.Field,
			Catalog: usdPerMillion(d.Catalog), File: usdPerMillion(d.File),
			Change: fmt.Sprintf("%+.1f %%", d.Change*100), CatalogAsOf: d.CatalogAsOf,
			Where: fmt.Sprintf("%s (line %d)", d.Key, d.Line),
		})
	}
	s.render(c, http.StatusOK, "catalog_prices", page)
}

// usdPerMillion prints a per-million-token price with the digits it needs,
// at most six significant ones: a price derived from a per-token figure
// ($0.0000000833… a token) would otherwise print as $0.08333333333333334.
func usdPerMillion(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return "$" + strconv.FormatFloat(r, 'f', -1, 64)
}
