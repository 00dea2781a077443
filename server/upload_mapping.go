package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
	"gatewise/simulator/traffic"
)

// File names in the upload folder: a log being received, and a raw log kept
// for its upload (waiting for a mapping, or kept by choice).
const (
	tempUploadPattern = "gatewise-upload-*"
	rawFilePrefix     = "gatewise-raw-"
)

// waitingUploadTTL is how long an upload may wait for its mapping before
// its row and raw file are swept away.
const waitingUploadTTL = 24 * time.Hour

// uploadDir is where logs wait while they are read and where kept ones stay.
func (s *Server) uploadDir() string {
	if s.cfg.UploadDir != "" {
		return s.cfg.UploadDir
	}
	return os.TempDir()
}

// rawPath is where the raw log of upload id is kept.
func (s *Server) rawPath(id string) string {
	return filepath.Join(s.uploadDir(), rawFilePrefix+id)
}

// mappingNeeded says a log could not be read as it is and now waits, as
// upload, for the user to map its columns.
type mappingNeeded struct {
	upload  store.Upload
	problem error
}

func (m *mappingNeeded) Error() string { return "the log needs a column mapping: " + m.problem.Error() }

// waitForMapping stores a log that could not be read as an upload waiting
// for its mapping and moves the file to its kept place. It declines (false)
// when the file is not a log at all, since no mapping would help.
func (s *Server) waitForMapping(ctx context.Context, archID string, rl *receivedLog, problem error) (store.Upload, bool) {
	if _, err := rl.file.Seek(0, 0); err != nil {
		return store.Upload{}, false
	}
	if _, err := traffic.Inspect(rl.file, 0); err != nil {
		return store.Upload{}, false
	}
	options, err := json.Marshal(rl.form)
	if err != nil {
		return store.Upload{}, false
	}
	up := store.Upload{ArchitectureID: archID, Name: rl.name, Status: store.UploadMapping, RawBytes: rl.size, ReadOptions: string(options)}
	if err := s.store.CreateUpload(ctx, &up); err != nil {
		s.log.Error("storing an upload that waits for its mapping", "error", err)
		return store.Upload{}, false
	}
	if !s.keepRawFile(rl, up.ID) {
		_ = s.store.DeleteUpload(context.WithoutCancel(ctx), up.ID)
		return store.Upload{}, false
	}
	return up, true
}

// keepRawFile moves a received log to the kept place of upload id. The
// temporary file is in the same folder, so this is a rename.
func (s *Server) keepRawFile(rl *receivedLog, id string) bool {
	rl.file.Close()
	if err := os.Rename(rl.file.Name(), s.rawPath(id)); err != nil {
		s.log.Error("keeping an uploaded log", "upload", id, "error", err)
		return false
	}
	rl.file = nil
	return true
}

// sweepUploads removes what uploads left behind: uploads that waited for a
// mapping longer than waitingUploadTTL, raw files no upload keeps, and logs
// half received when a server stopped.
func (s *Server) sweepUploads(ctx context.Context) {
	ctx = store.Unscoped(ctx) // every user's uploads, whoever's request triggered it
	ids, err := s.store.DeleteWaitingUploads(ctx, time.Now().Add(-waitingUploadTTL))
	if err != nil {
		s.log.Warn("sweeping uploads", "error", err)
		return
	}
	for _, id := range ids {
		os.Remove(s.rawPath(id))
	}
	kept, err := s.store.RawFileUploads(ctx)
	if err != nil {
		s.log.Warn("sweeping uploads", "error", err)
		return
	}
	keep := map[string]bool{}
	for _, id := range kept {
		keep[rawFilePrefix+id] = true
	}
	entries, err := os.ReadDir(s.uploadDir())
	if err != nil {
		s.log.Warn("sweeping uploads", "error", err)
		return
	}
	partial := strings.TrimSuffix(tempUploadPattern, "*")
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, rawFilePrefix) && !keep[name]:
			os.Remove(filepath.Join(s.uploadDir(), name))
		case strings.HasPrefix(name, partial):
			// A log still arriving is written to all the time; one untouched
			// for an hour was left by a server that stopped.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(s.uploadDir(), name))
			}
		}
	}
}

// mapWording is pageWording for the mapping page, where the mapping is
// the table of fields rather than a text box.
var mapWording = strings.NewReplacer(
	"with --map ", "in the table below, as in ",
	"with --format ", "under Format, one of ",
	"with --start ", "in Start time, such as ",
	"--map ", "the mapping ",
	"--format ", "Format ",
	"--start ", "Start time ",
)

// UploadMapPage is where the user tells gatewise which column holds what in
// a log it could not read as it is, and sees what the mapping reads.
type UploadMapPage struct {
	Layout
	Upload  store.Upload
	Shape   traffic.Shape
	Problem string
	// Summary is what the current mapping reads (a preview, or as far as
	// reading got before the problem), and View its layout.
	Summary *traffic.Summary
	View    SummaryView
	Rows    []MappingRow
	Form    uploadForm
	Formats []string
	// Fields are the problems beside the form's fields, by input name.
	Fields map[string]string
}

// MappingRow is one field of the mapping form.
type MappingRow struct {
	Field, Help string
	Column      string // chosen column, "" for none
	Const       string // a fixed value instead of a column
	Unit        string
	Units       []string
	Required    bool
}

// fieldHelp says what each field of a log means, in the form's words.
var fieldHelp = map[traffic.Field]string{
	traffic.FieldTime:       "when each request started (required)",
	traffic.FieldEnd:        "when it ended; gives the latency",
	traffic.FieldModel:      "the model; a fixed value if the log has none",
	traffic.FieldInput:      "prompt tokens, cached ones included",
	traffic.FieldCached:     "prompt tokens read from the provider's cache",
	traffic.FieldCacheWrite: "prompt tokens written to the cache",
	traffic.FieldOutput:     "completion tokens",
	traffic.FieldRequests:   "requests in a row that counts several",
	traffic.FieldStatus:     "HTTP status code",
	traffic.FieldSuccess:    "success flag or status word",
	traffic.FieldError:      "error text, type or code",
	traffic.FieldLatency:    "total latency",
	traffic.FieldCost:       "cost the log reports",
	traffic.FieldRoute:      "the value that picks the route",
	traffic.FieldOrigin:     "where the request came from",
	traffic.FieldUser:       "who sent it; only the number of distinct users is kept",
}

// mappingRows lays out the form from a mapping.
func mappingRows(m traffic.Mapping) []MappingRow {
	var rows []MappingRow
	for _, f := range traffic.Fields() {
		r := MappingRow{Field: f.String(), Help: fieldHelp[f], Units: f.Units(), Required: f == traffic.FieldTime}
		if src, ok := m[f]; ok {
			if src.IsConst {
				r.Const = src.Const
			} else {
				r.Column = src.Column
			}
			if src.Unit != traffic.UnitDefault {
				r.Unit = src.Unit.String()
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// loadWaitingUpload returns an upload that has a raw file to map.
func (s *Server) loadWaitingUpload(ctx context.Context, id string) (store.Upload, error) {
	up, err := s.store.Upload(ctx, id)
	if err != nil {
		return up, err
	}
	if up.Status != store.UploadMapping {
		return up, &Error{Status: http.StatusConflict, Message: "This log has been read already; its summary is on its page."}
	}
	return up, nil
}

// mapPage builds the mapping page of a waiting upload: the file's columns
// and the form filled from form, or from a guess when form has no mapping.
func (s *Server) mapPage(up store.Upload, form uploadForm) (UploadMapPage, error) {
	page := UploadMapPage{
		Layout:  Layout{Title: "Map the columns of " + up.Name, Nav: "architectures", Version: s.cfg.Version},
		Upload:  up,
		Form:    form,
		Formats: traffic.FormatNames(),
		Fields:  map[string]string{},
	}
	f, err := os.Open(s.rawPath(up.ID))
	if errors.Is(err, fs.ErrNotExist) {
		return page, &Error{Status: http.StatusGone, Message: "The log is no longer on the server; upload it again.", Err: err}
	}
	if err != nil {
		return page, err
	}
	defer f.Close()
	if page.Shape, err = traffic.Inspect(f, 0); err != nil {
		return page, &Error{Status: http.StatusUnprocessableEntity, Message: up.Name + ": " + err.Error(), Err: err}
	}
	m, err := traffic.ParseMapping(form.Map)
	if err != nil || len(m) == 0 {
		m = traffic.SuggestColumns(page.Shape.Columns)
	}
	page.Rows = mappingRows(m)
	return page, nil
}

// showMapping answers an upload that could not be read with its mapping page.
func (s *Server) showMapping(c *gin.Context, up store.Upload, problem error) {
	var form uploadForm
	_ = json.Unmarshal([]byte(up.ReadOptions), &form) // a waiting upload always has them; none is a fresh form
	page, err := s.mapPage(up, form)
	if err != nil {
		s.fail(c, err)
		return
	}
	msg := problem.Error()
	var e *Error
	if errors.As(problem, &e) {
		msg = e.Message
		for k, v := range e.Fields {
			page.Fields[k] = mapWording.Replace(v)
		}
	}
	page.Problem = mapWording.Replace(msg)
	s.render(c, http.StatusUnprocessableEntity, "upload_map", page)
}

// showUploadMap shows the mapping form of a waiting upload.
func (s *Server) showUploadMap(c *gin.Context) {
	up, err := s.loadWaitingUpload(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var form uploadForm
	_ = json.Unmarshal([]byte(up.ReadOptions), &form)
	page, err := s.mapPage(up, form)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "upload_map", page)
}

// mapUpload reads a waiting upload with the mapping from the form. With
// action=save and a readable result it becomes an ordinary upload; otherwise
// the page shows what the mapping reads, or why it cannot.
func (s *Server) mapUpload(c *gin.Context) {
	ctx := c.Request.Context()
	up, err := s.loadWaitingUpload(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, formReadError(err))
		return
	}
	pf := c.Request.PostForm
	form := uploadForm{Format: strings.TrimSpace(pf.Get("format")), Start: strings.TrimSpace(pf.Get("start")), Keep: pf.Get("keep") != ""}
	fields := map[string]string{}
	form.Map = mappingSpec(pf.Get, fields)
	page, err := s.mapPage(up, form)
	if err != nil {
		s.fail(c, err)
		return
	}
	page.Rows = formRows(pf.Get)
	if options, err := json.Marshal(form); err == nil {
		if err := s.store.SetUploadOptions(ctx, up.ID, string(options)); err != nil {
			s.fail(c, err)
			return
		}
	}
	if len(fields) > 0 {
		page.Fields, page.Problem = fields, "The mapping has problems; they are listed beside their fields."
		s.render(c, http.StatusUnprocessableEntity, "upload_map", page)
		return
	}

	_, spec, err := s.loadArchitecture(ctx, up.ArchitectureID)
	if err != nil {
		s.fail(c, err)
		return
	}
	opts, err := readOptionsFor(spec, form, s)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			page.Problem = mapWording.Replace(e.Message)
			for k, v := range e.Fields {
				page.Fields[k] = mapWording.Replace(v)
			}
		}
		s.render(c, http.StatusUnprocessableEntity, "upload_map", page)
		return
	}
	f, err := os.Open(s.rawPath(up.ID))
	if err != nil {
		s.fail(c, &Error{Status: http.StatusGone, Message: "The log is no longer on the server; upload it again.", Err: err})
		return
	}
	release, err := s.readSlot(ctx)
	if err != nil {
		f.Close()
		s.fail(c, err)
		return
	}
	profile, sum, readErr := traffic.Read(ctx, f, opts)
	release()
	f.Close()
	if ctx.Err() != nil {
		s.fail(c, ctx.Err())
		return
	}
	page.Summary, page.View = &sum, summaryView(sum, true)
	if readErr != nil {
		page.Problem = mapWording.Replace(readErr.Error())
		s.render(c, http.StatusUnprocessableEntity, "upload_map", page)
		return
	}
	if pf.Get("action") != "save" {
		s.render(c, http.StatusOK, "upload_map", page)
		return
	}
	done := store.Upload{ID: up.ID}
	if err := fillUpload(&done, profile, sum, form); err != nil {
		s.fail(c, err)
		return
	}
	if form.Keep {
		done.RawBytes = up.RawBytes
	}
	if err := s.store.CompleteUpload(ctx, &done); err != nil {
		s.fail(c, err)
		return
	}
	if !form.Keep {
		os.Remove(s.rawPath(up.ID))
	}
	c.Redirect(http.StatusSeeOther, "/uploads/"+up.ID)
}

// mappingSpec turns the form's per-field choices into a mapping in --map
// syntax, noting problems by input name.
func mappingSpec(get func(string) string, problems map[string]string) string {
	var parts []string
	for _, f := range traffic.Fields() {
		name := f.String()
		col := strings.TrimSpace(get("col_" + name))
		fixed := strings.TrimSpace(get("const_" + name))
		unit := strings.TrimSpace(get("unit_" + name))
		switch {
		case fixed != "":
			if strings.ContainsAny(fixed, ",'") {
				problems["const_"+name] = "cannot hold a comma or a quote"
				continue
			}
			parts = append(parts, name+"='"+fixed+"'")
		case col != "":
			if strings.Contains(col, ",") {
				problems["col_"+name] = "a column whose name has a comma cannot be mapped; rename it in the file"
				continue
			}
			item := name + "=" + col
			if unit != "" && unit != "auto" {
				item += ":" + unit
			}
			parts = append(parts, item)
		}
	}
	spec := strings.Join(parts, ",")
	if len(problems) == 0 {
		if _, err := traffic.ParseMapping(spec); err != nil {
			problems["map"] = err.Error()
		}
	}
	return spec
}

// formRows lays out the form as the user sent it, so a problem never loses
// their choices.
func formRows(get func(string) string) []MappingRow {
	rows := mappingRows(nil)
	for i := range rows {
		name := rows[i].Field
		rows[i].Column = strings.TrimSpace(get("col_" + name))
		rows[i].Const = strings.TrimSpace(get("const_" + name))
		rows[i].Unit = strings.TrimSpace(get("unit_" + name))
	}
	return rows
}

// discardUpload drops an upload that waits for its mapping, with its file.
func (s *Server) discardUpload(c *gin.Context) {
	ctx := c.Request.Context()
	up, err := s.loadWaitingUpload(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.DeleteUpload(ctx, up.ID); err != nil {
		s.fail(c, err)
		return
	}
	os.Remove(s.rawPath(up.ID))
	c.Redirect(http.StatusSeeOther, "/architectures/"+up.ArchitectureID)
}

// deleteRawFile removes the raw log a ready upload kept; its profile stays.
func (s *Server) deleteRawFile(c *gin.Context) {
	ctx := c.Request.Context()
	up, err := s.store.Upload(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if up.Status != store.UploadReady {
		s.fail(c, &Error{Status: http.StatusConflict, Message: "This log waits for its column mapping; discard it instead."})
		return
	}
	if err := os.Remove(s.rawPath(up.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.fail(c, fmt.Errorf("removing the raw log of %s: %w", up.ID, err))
		return
	}
	if err := s.store.ForgetRawFile(ctx, up.ID); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/uploads/"+up.ID)
}

// rereadUpload starts a new upload from the raw log a ready upload kept, so
// the same file can be read with another mapping; the first upload and the
// runs that replayed it stay as they are.
func (s *Server) rereadUpload(c *gin.Context) {
	ctx := c.Request.Context()
	up, err := s.store.Upload(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if up.Status != store.UploadReady || up.RawBytes == 0 {
		s.fail(c, &Error{Status: http.StatusConflict, Message: "gatewise did not keep this log; upload it again to read it differently."})
		return
	}
	next := store.Upload{ArchitectureID: up.ArchitectureID, Name: up.Name, Status: store.UploadMapping, RawBytes: up.RawBytes, ReadOptions: up.ReadOptions}
	if err := s.store.CreateUpload(ctx, &next); err != nil {
		s.fail(c, err)
		return
	}
	if err := linkOrCopy(s.rawPath(up.ID), s.rawPath(next.ID)); err != nil {
		_ = s.store.DeleteUpload(context.WithoutCancel(ctx), next.ID)
		if errors.Is(err, fs.ErrNotExist) {
			err = &Error{Status: http.StatusGone, Message: "The kept log is no longer on the server; upload it again.", Err: err}
		}
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/uploads/"+next.ID+"/map")
}

// linkOrCopy gives the file at from a second name; a hard link costs nothing,
// a copy is the fallback where links are not possible.
func linkOrCopy(from, to string) error {
	if err := os.Link(from, to); err == nil {
		return nil
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		os.Remove(to)
		return err
	}
	return dst.Close()
}
