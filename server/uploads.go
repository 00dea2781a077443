package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// maxDecompressed is how many times the upload limit a log may hold once
// decompressed.
const maxDecompressed = 16

// maxUploadField bounds the small fields sent beside an uploaded file.
const maxUploadField = 64 << 10

// uploadForm is what a log upload sends besides the file. It is also what a
// waiting upload remembers (as JSON) of how the user asked it to be read.
type uploadForm struct {
	ArchitectureID string `json:"-"`
	Format         string `json:"format,omitempty"`
	Map            string `json:"map,omitempty"`
	Start          string `json:"start,omitempty"`
	// Keep asks gatewise to keep the raw log after reading it.
	Keep bool `json:"keep,omitempty"`
}

// receivedLog is an uploaded log on disk, before it is read.
type receivedLog struct {
	file *os.File
	name string // the base name the browser gave
	size int64
	form uploadForm
}

// close removes the file unless it has been moved to its kept place.
func (r *receivedLog) close() {
	if r.file != nil {
		r.file.Close()
		os.Remove(r.file.Name())
	}
}

// receiveLog streams a multipart upload's file to a temporary file (the body
// limit for uploads applies) and reads the small fields beside it.
func (s *Server) receiveLog(c *gin.Context) (*receivedLog, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, newError(http.StatusBadRequest, "Send the log as a multipart form with a file field.", err)
	}
	tmp, err := os.CreateTemp(s.uploadDir(), tempUploadPattern)
	if err != nil {
		return nil, err
	}
	rl := &receivedLog{file: tmp}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rl.close()
			return nil, clientReadError(c, err)
		}
		if part.FormName() == "file" {
			rl.name = path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
			n, err := io.Copy(tmp, part)
			rl.size += n
			if err != nil {
				rl.close()
				return nil, clientReadError(c, err)
			}
			continue
		}
		if err := readField(part, &rl.form); err != nil {
			rl.close()
			return nil, err
		}
	}
	if rl.name == "" || rl.name == "." || rl.name == "/" {
		rl.close()
		return nil, &Error{Status: http.StatusUnprocessableEntity, Message: "Choose a request log to upload.", Fields: map[string]string{"file": "is required"}}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		rl.close()
		return nil, err
	}
	return rl, nil
}

// ingestUpload reads an uploaded log into a traffic profile with the
// architecture's routes and origin mix and stores the profile and summary.
// The file is deleted unless the user asked to keep it: the log's text is
// never in the database. archID may come from the URL or, for the API, from
// the form. When the log cannot be read as it is and waitForMapping is set
// (the browser), the upload is stored waiting for a column mapping with its
// file kept, and the error says so (*mappingNeeded).
func (s *Server) ingestUpload(c *gin.Context, archID string, waitForMapping bool) (store.Upload, traffic.Summary, error) {
	var sum traffic.Summary
	rl, err := s.receiveLog(c)
	if err != nil {
		return store.Upload{}, sum, err
	}
	defer rl.close()
	if archID == "" {
		archID = rl.form.ArchitectureID
	}
	if archID == "" {
		return store.Upload{}, sum, &Error{Status: http.StatusUnprocessableEntity, Message: "Name the architecture the log belongs to.", Fields: map[string]string{"architecture_id": "is required"}}
	}
	ctx := c.Request.Context()
	_, spec, err := s.loadArchitecture(ctx, archID)
	if err != nil {
		return store.Upload{}, sum, err
	}
	// A log that cannot be read as the form says waits for a mapping in the
	// browser, whether the form's options or the file were at fault.
	opts, err := readOptionsFor(spec, rl.form, s)
	if err != nil {
		if waitForMapping {
			if up, ok := s.waitForMapping(ctx, archID, rl, err); ok {
				return up, sum, &mappingNeeded{upload: up, problem: err}
			}
		}
		return store.Upload{}, sum, err
	}
	release, err := s.readSlot(ctx)
	if err != nil {
		return store.Upload{}, sum, err
	}
	profile, sum, readErr := traffic.Read(ctx, rl.file, opts)
	release()
	if ctx.Err() != nil {
		return store.Upload{}, sum, ctx.Err() // the client left; nothing to say to it
	}
	if readErr != nil {
		if waitForMapping {
			if up, ok := s.waitForMapping(ctx, archID, rl, readErr); ok {
				return up, sum, &mappingNeeded{upload: up, problem: readErr}
			}
		}
		return store.Upload{}, sum, &Error{Status: http.StatusUnprocessableEntity, Message: rl.name + ": " + readErr.Error(), Err: readErr, Fields: map[string]string{"file": readErr.Error()}}
	}
	up := store.Upload{ArchitectureID: archID, Name: rl.name}
	if err := fillUpload(&up, profile, sum, rl.form); err != nil {
		return store.Upload{}, sum, err
	}
	if rl.form.Keep {
		up.RawBytes = rl.size
	}
	if err := s.store.CreateUpload(ctx, &up); err != nil {
		return store.Upload{}, sum, err
	}
	if rl.form.Keep {
		s.keepRawFile(rl, up.ID)
	}
	return up, sum, nil
}

// fillUpload puts a read profile, its summary and the options that read it
// into an upload.
func fillUpload(up *store.Upload, profile *traffic.Profile, sum traffic.Summary, form uploadForm) error {
	encoded, err := encodeProfile(profile)
	if err != nil {
		return err
	}
	summary, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	options, err := json.Marshal(form)
	if err != nil {
		return err
	}
	up.Summary, up.Profile, up.ReadOptions = summary, encoded, string(options)
	return nil
}

// clientReadError says why a request body could not be read: the client
// left (logged as 499), it was too large (413), or it was malformed.
func clientReadError(c *gin.Context, err error) error {
	if ctxErr := c.Request.Context().Err(); ctxErr != nil {
		return ctxErr
	}
	return formReadError(err)
}

// readSlot waits for one of the server's log-reading slots. Reading a log
// into a profile takes tens of megabytes for a few seconds; the slots bound
// how many are read at once, so memory follows the configuration rather
// than the number of people uploading. The returned func frees the slot.
func (s *Server) readSlot(ctx context.Context) (func(), error) {
	select {
	case s.reading <- struct{}{}:
		return func() { <-s.reading }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readField reads one small form field of an upload.
func readField(part *multipart.Part, form *uploadForm) error {
	data, err := io.ReadAll(io.LimitReader(part, maxUploadField+1))
	if err != nil {
		return formReadError(err)
	}
	if len(data) > maxUploadField {
		return &Error{Status: http.StatusUnprocessableEntity, Message: "A form field is too long.", Fields: map[string]string{part.FormName(): "is longer than 64 KiB"}}
	}
	v := strings.TrimSpace(string(data))
	switch part.FormName() {
	case "architecture_id":
		form.ArchitectureID = v
	case "format":
		form.Format = v
	case "map":
		form.Map = v
	case "start":
		form.Start = v
	case "keep":
		form.Keep = v != "" && v != "false" && v != "0"
	}
	return nil
}

// readOptionsFor turns the architecture and the form into reading options:
// requests go to the architecture's routes by model, and origins follow its
// mix unless the log names them.
func readOptionsFor(spec simulator.Spec, form uploadForm, s *Server) (traffic.ReadOptions, error) {
	// A gzip log may expand to at most 16 times the upload limit (32 GiB by
	// default, about a minute of reading): real logs compress 3 to 10
	// times, and the reader's ratio check catches bombs long before.
	opts := traffic.ReadOptions{Format: form.Format, RouteBy: traffic.RouteByModel, OriginMix: spec.Traffic.Origin, Known: simulator.KnownModel(s.catalog),
		MaxBytes: maxDecompressed * s.cfg.MaxUploadBytes}
	if opts.Format == "" {
		opts.Format = "auto"
	}
	for _, r := range spec.Routes {
		opts.Routes = append(opts.Routes, traffic.Route{Name: r.Name, Models: r.Models})
	}
	if form.Map != "" {
		m, err := traffic.ParseMapping(form.Map)
		if err != nil {
			return opts, &Error{Status: http.StatusUnprocessableEntity, Message: "The column mapping has a problem: " + err.Error(), Err: err, Fields: map[string]string{"map": err.Error()}}
		}
		opts.Mapping = m
	}
	if form.Start != "" {
		t, err := parseStartTime(form.Start)
		if err != nil {
			return opts, &Error{Status: http.StatusUnprocessableEntity, Message: err.Error(), Fields: map[string]string{"start": err.Error()}}
		}
		opts.Start = t
	}
	if err := opts.Validate(); err != nil {
		return opts, &Error{Status: http.StatusUnprocessableEntity, Message: err.Error(), Err: err, Fields: map[string]string{"format": err.Error()}}
	}
	return opts, nil
}

func parseStartTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("start %q is not a time such as 2024-01-01 or 2024-01-01T00:00:00Z", s)
}

// encodeProfile packs a profile for the database: gob, gzip-compressed.
func encodeProfile(p *traffic.Profile) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := gob.NewEncoder(zw).Encode(p); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeProfile(data []byte) (*traffic.Profile, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var p traffic.Profile
	if err := gob.NewDecoder(zr).Decode(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// createUpload takes a log from an architecture's page and shows its
// summary.
func (s *Server) createUpload(c *gin.Context) {
	up, _, err := s.ingestUpload(c, c.Param("id"), true)
	var need *mappingNeeded
	if errors.As(err, &need) {
		s.showMapping(c, need.upload, need.problem)
		return
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Message = pageWording.Replace(e.Message)
		}
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/uploads/"+up.ID)
}

// pageWording names the upload form's fields where the reader's messages
// name the command line's flags.
var pageWording = strings.NewReplacer(
	"with --map ", "in Column mapping, such as ",
	"with --format ", "under Format, one of ",
	"with --start ", "in Start time, such as ",
	"--map ", "Column mapping ",
	"--format ", "Format ",
	"--start ", "Start time ",
)

// UploadPage shows what gatewise read from a log before anything runs.
type UploadPage struct {
	Layout
	Upload  store.Upload
	Summary traffic.Summary
	Trials  int
}

func (s *Server) showUpload(c *gin.Context) {
	up, err := s.store.Upload(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if up.Status == store.UploadMapping {
		c.Redirect(http.StatusSeeOther, "/uploads/"+up.ID+"/map")
		return
	}
	page := UploadPage{Layout: Layout{Title: "Traffic from " + up.Name, Nav: "architectures", Version: s.cfg.Version}, Upload: up}
	if err := json.Unmarshal(up.Summary, &page.Summary); err != nil {
		s.fail(c, err)
		return
	}
	if _, spec, err := s.loadArchitecture(c.Request.Context(), up.ArchitectureID); err == nil {
		page.Trials = spec.Simulation.Trials
	}
	s.render(c, http.StatusOK, "upload_show", page)
}

// apiCreateUpload is the API's log upload: multipart with file,
// architecture_id and optionally format, map and start.
func (s *Server) apiCreateUpload(c *gin.Context) {
	up, sum, err := s.ingestUpload(c, "", false)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/uploads/"+up.ID)
	c.JSON(http.StatusCreated, gin.H{"id": up.ID, "architecture_id": up.ArchitectureID, "url": "/uploads/" + up.ID, "summary": sum})
}
