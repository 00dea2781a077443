package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/simulator/traffic"
)

// maxPriceFileBody admits the largest price file the importer accepts plus
// the multipart framing around it.
const maxPriceFileBody = pricing.MaxImportBytes + 64<<10

// PriceFilePage shows what a LiteLLM, OpenRouter, Portkey, genai-prices or
// Helicone price file says differently from the catalog, so a user can see
// how stale either side is before trusting a memo's costs.
type PriceFilePage struct {
	Layout
	Threshold string // percent, as typed
	Day       string // the day whose prices a dated file answers, as typed ("" today)
	Error     string // why the file or a field was refused
	Checked   bool   // a file was read
	FileName  string
	Format    string
	FileAsOf  string
	Entries   int
	Imported  int
	Skipped   []PriceFileSkip
	Diffs     []PriceFileDiff
	// PriceDay is the day the diffs compare when the file dates its prices
	// (genai-prices, Helicone date ranges); History lists those prices.
	PriceDay string
	History  []PriceFileHistory
	Kept     string // the kept file's id, when the user chose to keep it
}

// PriceFileHistory is one dated price of a host in the file.
type PriceFileHistory struct {
	Model, Provider string
	When            string // "from 2026-09-01", "until 2026-08-31", ...
	Input, Output   string
	Long            string // the long-context prices, when the period has them
	InForce         bool
	Where           string
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
	page.Day = strings.TrimSpace(c.Request.FormValue("day"))
	if page.Day != "" {
		if _, err := time.Parse(time.DateOnly, page.Day); err != nil {
			refuse("day: give a date as YYYY-MM-DD, such as 2026-08-31, or leave it empty for today.")
			return
		}
	}
	pct, err := strconv.ParseFloat(page.Threshold, 64)
	if err != nil || pct < 0 || pct > 1000 {
		refuse("threshold: give a percentage from 0 to 1000, such as 5.")
		return
	}
	fh, err := c.FormFile("file")
	if err != nil {
		refuse("file: choose a LiteLLM, OpenRouter, Portkey, genai-prices or Helicone price file (JSON).")
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
	page.Checked, page.FileName, page.Format, page.FileAsOf, page.Entries, page.Imported = true, fh.Filename, rep.Format, o.AsOf, rep.Entries, rep.Imported
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
	if o.HasHistory() {
		page.PriceDay = pricing.Today()
		if page.Day != "" {
			page.PriceDay = page.Day
			if o, err = o.At(page.Day); err != nil {
				refuse("day: " + err.Error())
				return
			}
		}
		for _, h := range o.History() {
			for _, p := range h.Periods {
				row := PriceFileHistory{Model: h.Model, Provider: h.Provider, When: p.When(),
					Input: usdPerMillion(p.Input), Output: usdPerMillion(p.Output), InForce: p.InForce, Where: fmt.Sprintf("%s (line %d)", p.Key, p.Line)}
				if p.LongAbove > 0 {
					row.Long = fmt.Sprintf("%s / %s over %s tokens", usdPerMillion(p.LongInput), usdPerMillion(p.LongOutput), number(p.LongAbove))
				}
				page.History = append(page.History, row)
			}
		}
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

// Price days: a run priced with a file that dates its prices (genai-prices
// start dates, Helicone date ranges) takes the prices in force on the day it
// was queued ("today", the default) or on its uploaded log's first day
// ("log"); the API also takes a day, YYYY-MM-DD. A file without dated prices
// answers the same whatever the day.
const (
	priceAsOfToday = "today"
	priceAsOfLog   = "log"
)

// checkPriceAsOf refuses a price day the run cannot have, before it is
// queued.
func (s *Server) checkPriceAsOf(ctx context.Context, opts RunOptions) error {
	bad := func(msg string) error {
		return &Error{Status: http.StatusUnprocessableEntity, Message: "The run's price day: " + msg, Fields: map[string]string{"price_as_of": msg}}
	}
	switch opts.PriceAsOf {
	case "", priceAsOfToday:
		return nil
	case priceAsOfLog:
		if opts.UploadID == "" {
			return bad("log prices the run at its uploaded log's first day; the run has no upload_id")
		}
		if _, err := logFirstDay(ctx, s.store, opts.UploadID); err != nil {
			return bad(err.Error())
		}
	default:
		if _, err := time.Parse(time.DateOnly, opts.PriceAsOf); err != nil {
			return bad(fmt.Sprintf("%q is not today, log or a day YYYY-MM-DD", opts.PriceAsOf))
		}
	}
	if opts.PriceFileID == "" {
		return bad("it chooses the day whose prices a price file answers; the run has no price_file_id")
	}
	return nil
}

// logFirstDay is the first day of an uploaded log, in UTC.
func logFirstDay(ctx context.Context, st *store.Store, uploadID string) (string, error) {
	up, err := st.Upload(ctx, uploadID)
	if err != nil {
		return "", fmt.Errorf("the uploaded log is gone: %w", err)
	}
	var sum traffic.Summary
	if len(up.Summary) > 0 {
		if err := json.Unmarshal(up.Summary, &sum); err != nil {
			return "", fmt.Errorf("the uploaded log's summary does not decode: %w", err)
		}
	}
	if sum.Start.IsZero() {
		return "", errors.New("the uploaded log has no first day")
	}
	return sum.Start.UTC().Format(time.DateOnly), nil
}

// runPriceDay is the day whose prices a run's price file answers: the day
// the run was queued, so a restart or a comparison months later prices it
// the same; its log's first day; or the day it names.
func runPriceDay(ctx context.Context, st *store.Store, run store.Run, opts RunOptions) (string, error) {
	switch opts.PriceAsOf {
	case "", priceAsOfToday:
		if run.CreatedAt.IsZero() {
			return pricing.Today(), nil
		}
		return run.CreatedAt.UTC().Format(time.DateOnly), nil
	case priceAsOfLog:
		return logFirstDay(ctx, st, opts.UploadID)
	}
	return opts.PriceAsOf, nil
}

// runCatalog is the catalog a run is priced with: the server's, with the
// run's price file laid over it at the run's price day.
func runCatalog(ctx context.Context, st *store.Store, cat *pricing.Catalog, run store.Run, opts RunOptions) (*pricing.Catalog, error) {
	if opts.PriceFileID == "" {
		return cat, nil
	}
	pf, err := st.PriceFile(ctx, opts.PriceFileID)
	if err != nil {
		return nil, fmt.Errorf("the price file is gone: %w", err)
	}
	day, err := runPriceDay(ctx, st, run, opts)
	if err != nil {
		return nil, err
	}
	out, err := overlaid(cat, pf, day)
	if err != nil {
		return nil, fmt.Errorf("the price file no longer reads: %w", err)
	}
	return out, nil
}

// overlaid lays a kept price file over the catalog, as a run that chose
// it was priced: an undated file is dated by when it was kept, and a file
// with dated prices answers those in force on day.
func overlaid(cat *pricing.Catalog, pf store.PriceFile, day string) (*pricing.Catalog, error) {
	o, _, err := cat.Import(bytes.NewReader(pf.Data), pf.Name)
	if err != nil {
		return nil, err
	}
	if o.AsOf == "" {
		o.AsOf = pf.CreatedAt.Format(time.DateOnly)
	}
	if day != "" && o.HasHistory() {
		if o, err = o.At(day); err != nil {
			return nil, err
		}
	}
	return cat.WithOverlay(o), nil
}

// priceDayNote names a run's price day beside its price file.
func priceDayNote(opts RunOptions) string {
	switch opts.PriceAsOf {
	case "", priceAsOfToday:
		return ""
	case priceAsOfLog:
		return ", at the prices of the log's first day"
	}
	return ", at the prices of " + opts.PriceAsOf
}

// usdPerMillion prints a per-million-token price with the digits it needs,
// at most six significant ones: a price derived from a per-token figure
// ($0.0000000833… a token) would otherwise print as $0.08333333333333334.
func usdPerMillion(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return "$" + strconv.FormatFloat(r, 'f', -1, 64)
}
