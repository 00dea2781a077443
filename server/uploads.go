package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	// IDs names the column of request ids ("none": no check by id), and
	// Overlap what to do where an added log overlaps earlier ones that ids
	// cannot tell it from (upload_combine.go).
	IDs     string `json:"ids,omitempty"`
	Overlap string `json:"overlap,omitempty"`
}

// receivedLog is an uploaded log on disk, before it is read.
type receivedLog struct {
	file   *os.File
	name   string // the base name the browser gave
	size   int64
	sha256 string // hex, of the bytes received
	form   uploadForm
}

// close removes the file: what is kept of the log is in the database.
func (r *receivedLog) close() {
	r.file.Close()
	os.Remove(r.file.Name())
}

// rewind goes back to the start of the file, to read it again.
func (r *receivedLog) rewind() error {
	_, err := r.file.Seek(0, io.SeekStart)
	return err
}

// receiveLog streams a multipart upload's file to a temporary file (the body
// limit for uploads applies) and reads the small fields beside it. The file
// is named for this deployment, so the sweep of a gatewise on another
// database sharing the folder leaves it alone.
func (s *Server) receiveLog(c *gin.Context) (*receivedLog, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, newError(http.StatusBadRequest, "Send the log as a multipart form with a file field.", err)
	}
	prefix, err := s.receivingPrefix(c.Request.Context())
	if err != nil {
		return nil, err
	}
	tmp, err := s.createTemp(s.uploadDir(), prefix+"*")
	if err != nil {
		return nil, err
	}
	rl := &receivedLog{file: tmp}
	sum := sha256.New()
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
			n, err := io.Copy(io.MultiWriter(tmp, sum), part)
			rl.size += n
			rl.sha256 = hex.EncodeToString(sum.Sum(nil))
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
	s.metrics.logReceived(rl.size)
	if rl.name == "" || rl.name == "." || rl.name == "/" {
		rl.close()
		return nil, &Error{Status: http.StatusUnprocessableEntity, Message: "Choose a request log to upload.", Fields: map[string]string{"file": "is required"}}
	}
	if err := rl.rewind(); err != nil {
		rl.close()
		return nil, err
	}
	return rl, nil
}

// ingestUpload reads an uploaded log into a traffic profile with the
// architecture's routes and origin mix and stores the profile and summary.
// The log itself is stored only when the user asked to keep it (in the
// database, with the upload); the received file is deleted either way.
// archID may come from the URL or, for the API, from the form. When the log
// cannot be read as it is and waitForMapping is set (the browser), the
// upload is stored waiting for a column mapping with its raw log, and the
// error says so (*mappingNeeded).
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
			up, ok, serr := s.waitForMapping(ctx, archID, rl, err)
			if serr != nil {
				return store.Upload{}, sum, serr
			}
			if ok {
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
			up, ok, serr := s.waitForMapping(ctx, archID, rl, readErr)
			if serr != nil {
				return store.Upload{}, sum, serr
			}
			if ok {
				return up, sum, &mappingNeeded{upload: up, problem: readErr}
			}
		}
		return store.Upload{}, sum, &Error{Status: http.StatusUnprocessableEntity, Message: rl.name + ": " + readErr.Error(), Err: readErr, Fields: map[string]string{"file": readErr.Error()}}
	}
	s.metrics.logRead(sum)
	up := store.Upload{ArchitectureID: archID, Name: rl.name}
	if err := fillUpload(&up, profile, sum, rl.form); err != nil {
		return store.Upload{}, sum, err
	}
	if up.Logs, err = s.firstLog(ctx, rl.file, rl.name, rl.sha256, opts, sum, rl.form); err != nil {
		return store.Upload{}, sum, err
	}
	if !rl.form.Keep {
		if err := s.store.CreateUpload(ctx, &up); err != nil {
			return store.Upload{}, sum, err
		}
		return up, sum, nil
	}
	if err := rl.rewind(); err != nil {
		return store.Upload{}, sum, err
	}
	if err := s.store.CreateUploadWithRaw(ctx, &up, rl.file); err != nil {
		return store.Upload{}, sum, err
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
	case "ids":
		form.IDs = v
	case "overlap":
		form.Overlap = v
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
	if len(spec.Routes) > 0 {
		// What simulator.Run does with requests on no route of the
		// architecture, for the summary to say.
		opts.OtherServedAs = spec.Routes[0].Name
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
	View    SummaryView
	Trials  int
	// PriceFiles are the kept price files a run can be priced with.
	PriceFiles []store.PriceFile
	// Logs are the upload's files and what combining them found, and the
	// form that adds another (upload_combine.go).
	Logs LogsView
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
	page, err := s.uploadPage(c, up)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "upload_show", page)
}

// uploadPage builds the page of a ready upload.
func (s *Server) uploadPage(c *gin.Context, up store.Upload) (UploadPage, error) {
	var err error
	page := UploadPage{Layout: Layout{Title: "Traffic from " + up.Name, Nav: "architectures", Version: s.cfg.Version}, Upload: up}
	if err := json.Unmarshal(up.Summary, &page.Summary); err != nil {
		return page, err
	}
	page.View = summaryView(page.Summary, up.RawBytes > 0)
	if _, spec, err := s.loadArchitecture(c.Request.Context(), up.ArchitectureID); err == nil {
		page.Trials = spec.Simulation.Trials
	}
	if page.PriceFiles, err = s.store.ListPriceFiles(c.Request.Context()); err != nil {
		return page, err
	}
	page.Logs = s.logsView(up)
	return page, nil
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

// SummaryView is a log's summary as the upload and mapping pages show it:
// numbers rounded to what they mean, counts with their nouns, the mapping
// as a table, and what the simulation does with the log, in the pages'
// words (the form's fields, not the command line's flags).
type SummaryView struct {
	Facts    []SummaryFact
	Warnings []string
	Notes    []string
	Skipped  []SkippedRow
	Mapping  []MappingUsed
	Models   []ModelCount
	Routes   []traffic.Count
	Origins  []traffic.Count
}

// SummaryFact is one line of the summary: a term, its value, and what it
// means where that is not obvious.
type SummaryFact struct {
	Term, Value, Hint string
}

// SkippedRow is one example of a skipped row with what to do about it.
type SkippedRow struct {
	Problem, Hint string
}

// MappingUsed is one field of the mapping a log was read with.
type MappingUsed struct {
	Field, Help string
	Columns     []string // the first one a row has wins
	Unit, Const string
	IsConst     bool
}

// ModelCount is one model of the log with its requests and route.
type ModelCount struct {
	Name     string
	Requests int64
	Unknown  bool // not in the price catalog
	Route    string
}

// skipReasons names the reasons rows are skipped for, in the pages' words.
var skipReasons = map[string]string{
	traffic.ReasonUTF8: "not UTF-8 text", traffic.ReasonBinary: "binary data", traffic.ReasonSyntax: "broken CSV or JSON",
	traffic.ReasonFieldCount: "wrong number of fields", traffic.ReasonTooLong: "row too long",
	traffic.ReasonNoTime: "no timestamp", traffic.ReasonBadTime: "timestamp not readable", traffic.ReasonOldTime: "timestamp before 2000",
	traffic.ReasonFutureTime: "timestamp in the future", traffic.ReasonBadNumber: "not a number", traffic.ReasonNegative: "negative value",
	traffic.ReasonAbsurd: "implausible value", traffic.ReasonCachedOverrun: "more cached than input tokens",
	traffic.ReasonDuplicate: "a request an earlier file has, by its id",
}

// skipHints say, per reason, what to change on the mapping form.
var skipHints = map[string]string{
	traffic.ReasonOldTime: "Choose the unit beside timestamp on the mapping form: unix_ms for epoch milliseconds, offset_s or offset_ms for a clock counting from zero.",
	traffic.ReasonBadTime: "Choose the unit beside timestamp on the mapping form, or another column.",
	traffic.ReasonNoTime:  "Pick the column that holds the time beside timestamp on the mapping form.",
}

// summaryView lays out a summary for the pages. canRemap says the user can
// still change the mapping (the mapping page, or a kept raw log).
func summaryView(s traffic.Summary, canRemap bool) SummaryView {
	var v SummaryView
	rows := fmt.Sprintf("%s read, %s used", traffic.FormatCount(s.RowsRead), traffic.FormatCount(s.RowsUsed))
	for _, reason := range sortedKeys(s.RowsSkipped) {
		name := skipReasons[reason]
		if name == "" {
			name = strings.ReplaceAll(reason, "_", " ")
		}
		rows += fmt.Sprintf(", %s skipped (%s)", traffic.FormatCount(s.RowsSkipped[reason]), name)
	}
	v.Facts = append(v.Facts, SummaryFact{Term: "Rows", Value: rows})
	if s.Clock.Text != "" {
		f := SummaryFact{Term: "Clock", Value: upperFirst(s.Clock.Text) + "."}
		if s.Clock.Relative {
			f.Hint = "The Start time field sets another start."
			if !canRemap {
				f.Hint = "Upload the log again with a Start time to set another start."
			}
		}
		v.Facts = append(v.Facts, f)
	}
	if s.RowsUsed > 0 && !s.Start.IsZero() {
		rate, noun := traffic.FormatRate(s.RequestsPerDay), "requests"
		if rate == "1" {
			noun = "request"
		}
		v.Facts = append(v.Facts, SummaryFact{Term: "Time span",
			Value: fmt.Sprintf("%s to %s (%s) · %s %s a day", s.Start.UTC().Format("2006-01-02 15:04 UTC"), s.End.UTC().Format("2006-01-02 15:04 UTC"),
				traffic.DurationWords(s.End.Sub(s.Start)), rate, noun),
			Hint: "Requests a day is the log's requests over the minutes it spans, scaled to 24 hours."})
	}
	v.Facts = append(v.Facts, SummaryFact{Term: "Requests", Value: fmt.Sprintf("%s · %s (%s cached) · %s",
		traffic.Plural(s.Requests, "request"), traffic.Plural(s.InputTokens, "input token"),
		traffic.FormatCount(s.CachedInputTokens), traffic.Plural(s.OutputTokens, "output token"))})
	var failed []string
	for _, class := range sortedKeys(s.Errors) {
		if n := s.Errors[class]; n > 0 {
			failed = append(failed, fmt.Sprintf("%s %s", errorClassWords[class], traffic.FormatCount(n)))
		}
	}
	errs := "none reported"
	if len(failed) > 0 {
		errs = strings.Join(failed, " · ")
	}
	v.Facts = append(v.Facts, SummaryFact{Term: "Errors", Value: errs})
	if l := s.Latency; l != nil {
		v.Facts = append(v.Facts, SummaryFact{Term: "Latency", Value: fmt.Sprintf("p50 %s ms · p95 %s ms · p99 %s ms (of %s with a latency)",
			traffic.FormatRate(l.P50Ms), traffic.FormatRate(l.P95Ms), traffic.FormatRate(l.P99Ms), traffic.Plural(l.Count, "request")),
			Hint: "p95: 95 % of requests took less."})
	}
	if s.CostRows > 0 {
		v.Facts = append(v.Facts, SummaryFact{Term: "Cost reported", Value: fmt.Sprintf("$%s on %s of %s", money(s.CostUSD),
			traffic.FormatCount(s.CostRows), traffic.Plural(s.RowsUsed, "row")),
			Hint: "The log's own figure; simulations price requests from the catalog."})
	} else {
		v.Facts = append(v.Facts, SummaryFact{Term: "Cost reported", Value: "none in the log", Hint: "Simulations price requests from the catalog."})
	}
	if s.Users > 0 {
		users := traffic.Plural(s.Users, "distinct user")
		if s.UsersAtLeast {
			users = "at least " + users
		}
		v.Facts = append(v.Facts, SummaryFact{Term: "Users", Value: users})
	}
	unknown := "none"
	if len(s.UnknownModels) > 0 {
		unknown = strings.Join(s.UnknownModels, ", ")
	}
	v.Facts = append(v.Facts, SummaryFact{Term: "Unknown to the price catalog", Value: unknown})

	v.Warnings = append(v.Warnings, s.Warnings...)
	for i, w := range v.Warnings {
		v.Warnings[i] = upperFirst(mapWording.Replace(w))
	}
	for _, n := range s.Notes {
		v.Notes = append(v.Notes, upperFirst(n)+".")
	}
	hinted := map[string]bool{}
	for _, p := range s.Examples {
		row := SkippedRow{Problem: p.String()}
		if h := skipHints[p.Reason]; h != "" && !hinted[p.Reason] {
			row.Hint, hinted[p.Reason] = h, true
		}
		v.Skipped = append(v.Skipped, row)
	}
	for _, f := range s.Fields {
		help := ""
		if k, ok := traffic.ParseField(f.Field); ok {
			help = fieldHelp[k]
		}
		v.Mapping = append(v.Mapping, MappingUsed{Field: f.Field, Help: help, Columns: f.Columns, Unit: f.Unit, Const: f.Const, IsConst: f.IsConst})
	}
	for _, m := range s.Models {
		v.Models = append(v.Models, ModelCount{Name: m.Name, Requests: m.Requests, Unknown: m.Known != nil && !*m.Known, Route: m.Route})
	}
	v.Routes, v.Origins = s.Routes, s.Origins
	return v
}

// errorClassWords names the error classes for people.
var errorClassWords = map[string]string{"rate_limit_429": "rate limited (429)", "server_5xx": "server errors (5xx)", "timeout": "timeouts", "other": "other failures"}

// money writes dollars to the cent, or to four decimals under a dollar.
func money(v float64) string {
	if v < 1 {
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	cents := int64(math.Round(v * 100)) // always two decimals: 4.2 shows as 4.20
	return fmt.Sprintf("%s.%02d", traffic.FormatCount(cents/100), cents%100)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
