package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// File names in the upload folder, which other gatewise deployments may
// share (by default it is the system's temporary folder). A log being
// received is written to tempUploadPrefix, the deployment's id, a dash and
// a random part; tempUploadPattern matches what any gatewise receives. A
// gatewise before schema step 10 kept the raw log of an upload as
// legacyRawPrefix and the upload's id.
const (
	tempUploadPrefix  = "gatewise-upload-"
	tempUploadPattern = tempUploadPrefix + "*"
	legacyRawPrefix   = "gatewise-raw-"
)

// staleReceived is how long a log being received may go unwritten before
// the sweep takes it for one a stopped server left: a log still arriving is
// written to all the time.
const staleReceived = time.Hour

// waitingUploadTTL is how long an upload may wait for its mapping before
// it and its raw log are swept away.
const waitingUploadTTL = 24 * time.Hour

// uploadDir is where logs wait while they are received and read.
func (s *Server) uploadDir() string {
	if s.cfg.UploadDir != "" {
		return s.cfg.UploadDir
	}
	return os.TempDir()
}

// receivingPrefix starts the name of every file this deployment's servers
// write while receiving a log: the sweep removes only files named so.
func (s *Server) receivingPrefix(ctx context.Context) (string, error) {
	id, err := s.store.DeploymentID(ctx)
	if err != nil {
		return "", err
	}
	return tempUploadPrefix + id + "-", nil
}

// mappingNeeded says a log could not be read as it is and now waits, as
// upload, for the user to map its columns.
type mappingNeeded struct {
	upload  store.Upload
	problem error
}

func (m *mappingNeeded) Error() string { return "the log needs a column mapping: " + m.problem.Error() }

// waitForMapping stores a log that could not be read as an upload waiting
// for its mapping, its raw log in the database with it, where every server
// of the deployment can read it. It declines (false, nil) when the file is
// not a log at all, since no mapping would help; an error is the store's.
func (s *Server) waitForMapping(ctx context.Context, archID string, rl *receivedLog, problem error) (store.Upload, bool, error) {
	if err := rl.rewind(); err != nil {
		return store.Upload{}, false, err
	}
	if _, err := traffic.Inspect(rl.file, 0); err != nil {
		return store.Upload{}, false, nil
	}
	options, err := json.Marshal(rl.form)
	if err != nil {
		return store.Upload{}, false, err
	}
	if err := rl.rewind(); err != nil {
		return store.Upload{}, false, err
	}
	up := store.Upload{ArchitectureID: archID, Name: rl.name, Status: store.UploadMapping, ReadOptions: string(options)}
	if err := s.store.CreateUploadWithRaw(ctx, &up, rl.file); err != nil {
		return store.Upload{}, false, fmt.Errorf("storing an upload that waits for its mapping: %w", err)
	}
	return up, true, nil
}

// openRaw streams the raw log an upload keeps.
func (s *Server) openRaw(ctx context.Context, id string) (*store.RawReader, error) {
	r, err := s.store.OpenRaw(ctx, id)
	if err != nil {
		return nil, rawError(err)
	}
	return r, nil
}

// rawError words a raw log that is not there (any more) for the user.
func rawError(err error) error {
	if errors.Is(err, store.ErrRawGone) {
		return &Error{Status: http.StatusGone, Message: "The log is no longer on the server; upload it again.", Err: err}
	}
	return err
}

// sweepUploads removes what uploads left behind: uploads that waited for a
// mapping longer than waitingUploadTTL (their raw logs go with them), and
// logs this deployment's servers were receiving when they stopped. It also
// moves raw logs an earlier gatewise kept on this server's disk into the
// database. It never touches another deployment's files: theirs carry
// another deployment's id, or the id of an upload this database does not
// have.
func (s *Server) sweepUploads(ctx context.Context) {
	ctx = store.Unscoped(ctx) // every user's uploads, whoever's request triggered it
	if _, err := s.store.DeleteWaitingUploads(ctx, time.Now().Add(-waitingUploadTTL)); err != nil {
		s.log.Warn("sweeping uploads", "error", err)
		return
	}
	// Uploads deleted with their architecture took their raw logs along.
	if err := s.store.Scrub(ctx); err != nil {
		s.log.Debug("sweeping uploads", "error", err)
	}
	s.importRawFiles(ctx)
	s.removeStaleReceived(ctx)
}

// importRawFiles moves into the database the raw logs a gatewise before
// schema step 10 kept as files, for the uploads of this database whose rows
// say they keep one, then removes the files. A file another server of the
// deployment kept on its own disk waits for that server's sweep.
func (s *Server) importRawFiles(ctx context.Context) {
	missing, err := s.store.UploadsMissingRaw(ctx)
	if err != nil {
		s.log.Warn("importing raw logs kept on disk", "error", err)
		return
	}
	for _, up := range missing {
		path := filepath.Join(s.uploadDir(), legacyRawPrefix+up.ID)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			s.log.Warn("importing a raw log kept on disk", "upload", up.ID, "error", err)
			continue
		}
		if info, err := f.Stat(); err != nil || info.Size() != up.RawBytes {
			f.Close()
			s.log.Warn("importing a raw log kept on disk: its size is not the upload's; left in place", "upload", up.ID, "file", path, "want_bytes", up.RawBytes)
			continue
		}
		err = s.store.ImportRaw(ctx, up.ID, up.RawBytes, f)
		f.Close()
		switch {
		case err == nil:
			s.log.Info("imported a raw log kept on disk into the database", "upload", up.ID, "bytes", up.RawBytes)
		case errors.Is(err, store.ErrNotFound):
			// Gone with its upload, or imported by another server meanwhile.
		default:
			s.log.Warn("importing a raw log kept on disk", "upload", up.ID, "error", err)
			continue
		}
		if err := os.Remove(path); err != nil {
			s.log.Warn("removing a raw log imported into the database", "upload", up.ID, "error", err)
		}
	}
}

// removeStaleReceived removes the logs this deployment's servers were
// receiving when they stopped: files with its prefix untouched for
// staleReceived.
func (s *Server) removeStaleReceived(ctx context.Context) {
	prefix, err := s.receivingPrefix(ctx)
	if err != nil {
		s.log.Warn("sweeping uploads", "error", err)
		return
	}
	entries, err := os.ReadDir(s.uploadDir())
	if err != nil {
		s.log.Warn("sweeping uploads", "error", err)
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleReceived {
			os.Remove(filepath.Join(s.uploadDir(), e.Name()))
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
	traffic.FieldFailed:     "how many of the requests a row counts failed (LiteLLM daily spend); on a row of one request, 1 marks it failed",
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

// loadWaitingUpload returns an upload that has a raw log to map.
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
func (s *Server) mapPage(ctx context.Context, up store.Upload, form uploadForm) (UploadMapPage, error) {
	page := UploadMapPage{
		Layout:  Layout{Title: "Map the columns of " + up.Name, Nav: "architectures", Version: s.cfg.Version},
		Upload:  up,
		Form:    form,
		Formats: traffic.FormatNames(),
		Fields:  map[string]string{},
	}
	raw, err := s.openRaw(ctx, up.ID)
	if err != nil {
		return page, err
	}
	if page.Shape, err = traffic.Inspect(raw, 0); err != nil {
		if rerr := raw.Err(); rerr != nil {
			return page, rawError(rerr)
		}
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
	page, err := s.mapPage(c.Request.Context(), up, form)
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
	page, err := s.mapPage(c.Request.Context(), up, form)
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
	page, err := s.mapPage(ctx, up, form)
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
	raw, err := s.openRaw(ctx, up.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	release, err := s.readSlot(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	checksum := sha256.New() // for the first file of the upload, when saved
	profile, sum, readErr := traffic.Read(ctx, io.TeeReader(raw, checksum), opts)
	release()
	if ctx.Err() != nil {
		s.fail(c, ctx.Err())
		return
	}
	if err := raw.Err(); err != nil {
		s.fail(c, rawError(err)) // the database failed, not the log
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
	s.metrics.logRead(sum)
	done := store.Upload{ID: up.ID}
	if err := fillUpload(&done, profile, sum, form); err != nil {
		s.fail(c, err)
		return
	}
	if form.Keep {
		done.RawBytes = up.RawBytes // kept; otherwise the raw log goes with the same write
	}
	again, err := s.openRaw(ctx, up.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if done.Logs, err = s.firstLog(ctx, again, up.Name, hex.EncodeToString(checksum.Sum(nil)), opts, sum, form); err != nil {
		s.fail(c, err)
		return
	}
	if err := again.Err(); err != nil {
		s.fail(c, rawError(err)) // the database failed while the ids were read
		return
	}
	if err := s.store.CompleteUpload(ctx, &done); err != nil {
		s.fail(c, err)
		return
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

// discardUpload drops an upload that waits for its mapping, with its raw
// log.
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
	if err := s.store.DeleteRaw(ctx, up.ID); err != nil {
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
	next := store.Upload{ArchitectureID: up.ArchitectureID, Name: up.Name, Status: store.UploadMapping, ReadOptions: up.ReadOptions}
	if err := s.store.CreateUploadFrom(ctx, &next, up.ID); err != nil {
		if errors.Is(err, store.ErrRawGone) {
			err = &Error{Status: http.StatusGone, Message: "The kept log is no longer on the server; upload it again.", Err: err}
		}
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/uploads/"+next.ID+"/map")
}
