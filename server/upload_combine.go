package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// An upload may combine several logs: a LiteLLM deployment's SpendLogs and
// ErrorLogs, or one export a day. Each file added is checked against the
// files before it: the same bytes are refused, rows whose request ids an
// earlier file has are skipped, and spans two files both cover are
// reported, with both files' requests in them and, where ids cannot tell
// repeated requests from different ones, the user's choice to keep both or
// drop the later file's overlap. The upload's profile and summary are the
// combination's; each file keeps its own (store.UploadLog), so the
// combination can be made again when the choice changes.

// logDetails is what an upload keeps of one of its files besides its
// summary, profile and fingerprints (store.UploadLog.Details).
type logDetails struct {
	// Options are how the file was read.
	Options    uploadForm `json:"options"`
	IDColumn   string     `json:"id_column,omitempty"`
	NoIDs      string     `json:"no_ids,omitempty"`
	IDPartial  bool       `json:"id_partial,omitempty"`
	Repeats    int64      `json:"repeats,omitempty"`
	Duplicates []int64    `json:"duplicates,omitempty"`
	Overlap    string     `json:"overlap,omitempty"`
}

// idScan reads the request ids of a log at the start of r against the ids
// of earlier files. A log that cannot be walked has no ids (the reader says
// what is wrong with it); an id column the user named and the log does not
// have is the user's to fix.
func (s *Server) idScan(ctx context.Context, r io.Reader, opts traffic.ReadOptions, form uploadForm, earlier []*traffic.IDSet) (*traffic.IDScan, error) {
	if sk, ok := r.(io.Seeker); ok {
		if _, err := sk.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	room := traffic.MaxIDs
	for _, set := range earlier {
		room -= set.Len()
	}
	scan, err := traffic.ScanIDs(ctx, r, opts, form.IDs, earlier, max(room, 0))
	var col *traffic.IDColumnError
	switch {
	case errors.As(err, &col):
		return nil, &Error{Status: http.StatusUnprocessableEntity, Message: "The request id column has a problem: " + col.Error() + ".", Err: err,
			Fields: map[string]string{"ids": col.Error()}}
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return &traffic.IDScan{NoIDs: "its rows could not be walked for ids", Duplicates: make([]int64, len(earlier))}, nil
	}
	return scan, nil
}

// firstLog is what an upload keeps of its first file: its checksum, its
// summary and the fingerprints of its request ids, read from r (rewound
// when it can be), for the files that may be added to it later.
func (s *Server) firstLog(ctx context.Context, r io.Reader, name, sha string, opts traffic.ReadOptions, sum traffic.Summary, form uploadForm) ([]store.UploadLog, error) {
	release, err := s.readSlot(ctx)
	if err != nil {
		return nil, err
	}
	scan, err := s.idScan(ctx, r, opts, form, nil)
	release()
	if err != nil {
		return nil, err
	}
	l, err := logRecord(1, traffic.LogFile{Name: name, SHA256: sha, Summary: sum, IDs: scan.IDs, IDColumn: scan.Column, NoIDs: scan.NoIDs,
		IDPartial: scan.Partial, Repeats: scan.Repeats, Duplicates: scan.Duplicates}, form, nil)
	if err != nil {
		return nil, err
	}
	return []store.UploadLog{l}, nil
}

// logRecord is what the store keeps of file f, the seq-th of its upload,
// with its ids; profile is its encoded profile, nil for the first file
// while it is the only one (the upload's is the same).
func logRecord(seq int, f traffic.LogFile, form uploadForm, profile []byte) (store.UploadLog, error) {
	summary, err := json.Marshal(f.Summary)
	if err != nil {
		return store.UploadLog{}, err
	}
	d := logDetails{Options: form, Overlap: f.Overlap, IDColumn: f.IDColumn, NoIDs: f.NoIDs, IDPartial: f.IDPartial, Repeats: f.Repeats, Duplicates: f.Duplicates}
	var ids []byte
	if f.IDs != nil {
		if ids, err = f.IDs.MarshalBinary(); err != nil {
			return store.UploadLog{}, err
		}
	}
	details, err := json.Marshal(d)
	if err != nil {
		return store.UploadLog{}, err
	}
	return store.UploadLog{Seq: seq, Name: f.Name, SHA256: f.SHA256, Summary: summary, Profile: profile, IDs: ids, Details: string(details)}, nil
}

// uploadLogs is an upload's files, decoded for a new combination.
type uploadLogs struct {
	up      store.Upload
	files   []traffic.LogFile
	rows    []store.UploadLog // as stored, or made from the upload for one stored before gatewise kept its files
	details []logDetails
}

// loadLogs decodes the files of a ready upload.
func (s *Server) loadLogs(ctx context.Context, up store.Upload) (*uploadLogs, error) {
	if up.Status != store.UploadReady {
		return nil, &Error{Status: http.StatusConflict, Message: "This log waits for its column mapping: map its columns and save it first, then add more logs to it."}
	}
	rows, err := s.store.UploadLogs(ctx, up.ID)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		// Stored before gatewise kept an upload's files: its one file is
		// the upload, with no checksum and no ids.
		rows = []store.UploadLog{{Seq: 1, Name: up.Name, Summary: up.Summary, Details: `{"options":` + orEmptyJSON(up.ReadOptions) + `}`}}
	}
	l := &uploadLogs{up: up, rows: rows}
	for _, row := range rows {
		f := traffic.LogFile{Name: row.Name, SHA256: row.SHA256}
		if err := json.Unmarshal(row.Summary, &f.Summary); err != nil {
			return nil, fmt.Errorf("upload %s, file %d: the summary does not decode: %w", up.ID, row.Seq, err)
		}
		profile := row.Profile
		if len(profile) == 0 {
			if len(rows) > 1 {
				return nil, fmt.Errorf("upload %s, file %d: no profile", up.ID, row.Seq)
			}
			profile = up.Profile
		}
		if f.Profile, err = decodeProfile(profile); err != nil {
			return nil, fmt.Errorf("upload %s, file %d: the profile does not decode: %w", up.ID, row.Seq, err)
		}
		if len(row.IDs) > 0 {
			f.IDs = &traffic.IDSet{}
			if err := f.IDs.UnmarshalBinary(row.IDs); err != nil {
				return nil, fmt.Errorf("upload %s, file %d: %w", up.ID, row.Seq, err)
			}
		}
		var d logDetails
		if row.Details != "" {
			if err := json.Unmarshal([]byte(row.Details), &d); err != nil {
				return nil, fmt.Errorf("upload %s, file %d: the details do not decode: %w", up.ID, row.Seq, err)
			}
		}
		f.IDColumn, f.NoIDs, f.IDPartial, f.Repeats, f.Overlap = d.IDColumn, d.NoIDs, d.IDPartial, d.Repeats, d.Overlap
		f.Duplicates = d.Duplicates
		if f.IDColumn != "" && f.IDs == nil {
			f.IDs = &traffic.IDSet{} // every id it had was an earlier file's
		}
		l.files = append(l.files, f)
		l.details = append(l.details, d)
	}
	return l, nil
}

func orEmptyJSON(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

// sets are the files' request-id fingerprints, nil for a file without.
func (l *uploadLogs) sets() []*traffic.IDSet {
	out := make([]*traffic.IDSet, len(l.files))
	for i, f := range l.files {
		out[i] = f.IDs
	}
	return out
}

// save combines the files and stores the combination with changed, the
// files it changed or added; a first file that stood for the upload gets
// its own profile, since the upload's is the combination's from now on.
func (s *Server) save(ctx context.Context, l *uploadLogs, opts traffic.ReadOptions, changed []store.UploadLog) (store.Upload, traffic.Combined, error) {
	merged, combined, err := traffic.Combine(l.files, opts)
	if err != nil {
		// What the files hold makes them too many to combine (cells, span).
		return store.Upload{}, combined, &Error{Status: http.StatusUnprocessableEntity, Message: "The files cannot be combined: " + err.Error() + ".", Err: err}
	}
	if len(l.files) > 1 && len(l.rows[0].Profile) == 0 {
		first := l.rows[0]
		first.Profile = l.up.Profile
		changed = append([]store.UploadLog{first}, changed...)
	}
	up := store.Upload{ID: l.up.ID, Name: combinedName(l.files)}
	if up.Profile, err = encodeProfile(merged); err != nil {
		return up, combined, err
	}
	if up.Summary, err = json.Marshal(combined); err != nil {
		return up, combined, err
	}
	if err := s.store.SaveUploadLogs(ctx, &up, l.up.Revision, changed); err != nil {
		if errors.Is(err, store.ErrChanged) {
			return up, combined, &Error{Status: http.StatusConflict, Message: "This traffic changed while your file was read (another file was added, or a choice made): look at it again, then add your file again.", Err: err}
		}
		return up, combined, err
	}
	return up, combined, nil
}

// combinedName names an upload of several files for lists and results: the
// files' names, or the first with how many follow.
func combinedName(files []traffic.LogFile) string {
	if len(files) <= 3 {
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = f.Name
		}
		return strings.Join(names, " + ")
	}
	return fmt.Sprintf("%s + %d more files", files[0].Name, len(files)-1)
}

// addLog reads a log sent to an upload and makes it part of the upload's
// traffic.
func (s *Server) addLog(c *gin.Context) (store.Upload, traffic.Combined, error) {
	var combined traffic.Combined
	ctx := c.Request.Context()
	up, err := s.store.Upload(ctx, c.Param("id"))
	if err != nil {
		return up, combined, err
	}
	l, err := s.loadLogs(ctx, up)
	if err != nil {
		return up, combined, err
	}
	rl, err := s.receiveLog(c)
	if err != nil {
		return up, combined, err
	}
	defer rl.close()
	if i := traffic.SameFile(l.files, rl.sha256); i >= 0 {
		msg := fmt.Sprintf("%s and %s are the same file (the same bytes): the second was not added.", l.files[i].Name, rl.name)
		if l.files[i].Name == rl.name {
			msg = fmt.Sprintf("%s is part of this traffic already (the same bytes): it was not added again.", rl.name)
		}
		return up, combined, &Error{Status: http.StatusUnprocessableEntity, Message: msg, Fields: map[string]string{"file": "is the same file as " + l.files[i].Name}}
	}
	switch rl.form.Overlap {
	case "", traffic.OverlapKeep, traffic.OverlapDrop:
	default:
		return up, combined, &Error{Status: http.StatusUnprocessableEntity, Message: fmt.Sprintf("Overlap %q is neither keep nor drop.", rl.form.Overlap),
			Fields: map[string]string{"overlap": "is keep or drop"}}
	}
	_, spec, err := s.loadArchitecture(ctx, up.ArchitectureID)
	if err != nil {
		return up, combined, err
	}
	// Reading, checking and merging hold one of the log-reading slots,
	// which bound the memory logs take.
	release, err := s.readSlot(ctx)
	if err != nil {
		return up, combined, err
	}
	defer release()
	f, form, err := s.readAdded(ctx, rl, spec, l)
	if err != nil {
		return up, combined, err
	}
	l.files = append(l.files, f)
	rec, err := logRecord(len(l.files), f, form, nil)
	if err != nil {
		return up, combined, err
	}
	if rec.Profile, err = encodeProfile(f.Profile); err != nil {
		return up, combined, err
	}
	opts, err := readOptionsFor(spec, uploadForm{}, s)
	if err != nil {
		return up, combined, err
	}
	saved, combined, err := s.save(ctx, l, opts, []store.UploadLog{rec})
	if err != nil {
		return up, combined, err
	}
	s.metrics.logRead(f.Summary)
	s.log.InfoContext(ctx, "log added to an upload", "upload", up.ID, "file", rl.name, "files", len(l.files),
		"duplicate_rows", f.Summary.RowsSkipped[traffic.ReasonDuplicate], "requests", combined.Requests)
	return saved, combined, nil
}

// readAdded reads an added log with traffic.ReadAdded, as the command line
// does, so the two skip and keep the same rows. A log in no known format,
// sent without a format or mapping, is read as the latest earlier file
// that needed one was, if that reads it. It returns the file and the
// options it was read with. The caller holds a log-reading slot.
func (s *Server) readAdded(ctx context.Context, rl *receivedLog, spec simulator.Spec, l *uploadLogs) (traffic.LogFile, uploadForm, error) {
	forms := []uploadForm{rl.form}
	if (rl.form.Format == "" || rl.form.Format == "auto") && rl.form.Map == "" {
		for i := len(l.details) - 1; i >= 0; i-- {
			o := l.details[i].Options
			if o.Map != "" || (o.Format != "" && o.Format != "auto") {
				o.IDs, o.Overlap, o.Keep = rl.form.IDs, rl.form.Overlap, false
				forms = append(forms, o)
				break
			}
		}
	}
	// The received file is read from its start each time: for its ids,
	// then for its rows.
	open := func() (io.ReadCloser, error) {
		if err := rl.rewind(); err != nil {
			return nil, err
		}
		return io.NopCloser(rl.file), nil
	}
	var firstErr error
	for k, form := range forms {
		opts, err := readOptionsFor(spec, form, s)
		if err != nil {
			if k == 0 {
				return traffic.LogFile{}, form, err
			}
			continue
		}
		f, err := traffic.ReadAdded(ctx, open, traffic.AddedLog{Name: rl.name, SHA256: rl.sha256, Options: opts, IDColumn: form.IDs, Overlap: form.Overlap}, l.files)
		var (
			col  *traffic.IDColumnError
			rep  *traffic.RepeatsError
			read *traffic.ReadError
		)
		switch {
		case ctx.Err() != nil:
			return traffic.LogFile{}, form, ctx.Err()
		case errors.As(err, &col):
			return traffic.LogFile{}, form, &Error{Status: http.StatusUnprocessableEntity, Message: "The request id column has a problem: " + col.Error() + ".", Err: err,
				Fields: map[string]string{"ids": col.Error()}}
		case errors.As(err, &rep):
			of := strings.Join(rep.Of, " and ")
			return traffic.LogFile{}, form, &Error{Status: http.StatusUnprocessableEntity,
				Message: fmt.Sprintf("Every row of %s repeats a request id of %s: it adds nothing, so it was not added.", rl.name, of),
				Fields:  map[string]string{"file": "repeats " + of}}
		case errors.As(err, &read):
			if firstErr == nil {
				firstErr = read.Err
			}
			continue
		case err != nil:
			return traffic.LogFile{}, form, err
		}
		if k > 0 {
			how := form.Format
			if form.Map != "" {
				how = "the column mapping " + form.Map
			}
			f.Summary.Warnings = append(f.Summary.Warnings, "it matches no known format and came without a format or a column mapping, so it was read as the earlier files were: "+how)
		}
		return f, form, nil
	}
	return traffic.LogFile{}, rl.form, &Error{Status: http.StatusUnprocessableEntity, Message: rl.name + ": " + firstErr.Error(), Err: firstErr,
		Fields: map[string]string{"file": firstErr.Error()}}
}

// setOverlap records the user's choice for a file's overlaps and makes the
// combination again.
func (s *Server) setOverlap(ctx context.Context, id, n, choice string) (store.Upload, traffic.Combined, error) {
	var combined traffic.Combined
	if choice != traffic.OverlapKeep && choice != traffic.OverlapDrop {
		return store.Upload{}, combined, &Error{Status: http.StatusUnprocessableEntity, Message: fmt.Sprintf("Overlap %q is neither keep nor drop.", choice),
			Fields: map[string]string{"overlap": "is keep or drop"}}
	}
	up, err := s.store.Upload(ctx, id)
	if err != nil {
		return up, combined, err
	}
	l, err := s.loadLogs(ctx, up)
	if err != nil {
		return up, combined, err
	}
	seq, err := strconv.Atoi(n)
	if err != nil || seq < 1 || seq > len(l.files) {
		return up, combined, newError(http.StatusNotFound, fmt.Sprintf("This traffic has no file %s.", n), nil)
	}
	if seq == 1 {
		return up, combined, &Error{Status: http.StatusUnprocessableEntity, Message: "The first file overlaps no file before it; the choice is a later file's.",
			Fields: map[string]string{"overlap": "applies to files after the first"}}
	}
	_, spec, err := s.loadArchitecture(ctx, up.ArchitectureID)
	if err != nil {
		return up, combined, err
	}
	opts, err := readOptionsFor(spec, uploadForm{}, s)
	if err != nil {
		return up, combined, err
	}
	release, err := s.readSlot(ctx)
	if err != nil {
		return up, combined, err
	}
	defer release()
	l.files[seq-1].Overlap, l.details[seq-1].Overlap = choice, choice
	row := l.rows[seq-1]
	details, err := json.Marshal(l.details[seq-1])
	if err != nil {
		return up, combined, err
	}
	row.Details = string(details)
	return s.save(ctx, l, opts, []store.UploadLog{row})
}

// addUploadLog takes a log from an upload's page and adds it to the
// upload's traffic; a problem shows on the page, beside the form.
func (s *Server) addUploadLog(c *gin.Context) {
	up, _, err := s.addLog(c)
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/uploads/"+up.ID)
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Status == http.StatusNotFound || e.Status >= 500 || up.ID == "" || up.Status != store.UploadReady {
		s.fail(c, err)
		return
	}
	page, perr := s.uploadPage(c, up)
	if perr != nil {
		s.fail(c, perr)
		return
	}
	page.Logs.Problem = pageWording.Replace(e.Message)
	for k, v := range e.Fields {
		page.Logs.Fields[k] = pageWording.Replace(v)
	}
	s.render(c, e.Status, "upload_show", page)
}

// setUploadLogOverlap is the page's choice for a file's overlaps.
func (s *Server) setUploadLogOverlap(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, formReadError(err))
		return
	}
	up, _, err := s.setOverlap(c.Request.Context(), c.Param("id"), c.Param("n"), c.Request.PostForm.Get("overlap"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/uploads/"+up.ID+"#log-files")
}

// apiUpload is an upload as the API shows it.
func apiUpload(up store.Upload, combined traffic.Combined) gin.H {
	h := gin.H{"id": up.ID, "architecture_id": up.ArchitectureID, "name": up.Name, "status": up.Status, "url": "/uploads/" + up.ID}
	if up.Status == store.UploadReady {
		h["summary"] = combined
	}
	return h
}

// apiShowUpload is an upload's summary, its files and what combining them
// found.
func (s *Server) apiShowUpload(c *gin.Context) {
	up, err := s.store.Upload(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var combined traffic.Combined
	if len(up.Summary) > 0 {
		if err := json.Unmarshal(up.Summary, &combined); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, apiUpload(up, combined))
}

// apiAddUploadLog adds a log to an upload: multipart with file and
// optionally format, map, start, ids and overlap.
func (s *Server) apiAddUploadLog(c *gin.Context) {
	up, combined, err := s.addLog(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/uploads/"+up.ID)
	c.JSON(http.StatusCreated, apiUpload(up, combined))
}

// apiSetUploadLog changes a file's choice for its overlaps: {"overlap":
// "keep"} or {"overlap": "drop"}.
func (s *Server) apiSetUploadLog(c *gin.Context) {
	var body struct {
		Overlap string `json:"overlap"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	up, combined, err := s.setOverlap(c.Request.Context(), c.Param("id"), c.Param("n"), body.Overlap)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiUpload(up, combined))
}

// withLogFiles names, in the log a run replays, each file of an upload that
// combines several.
func withLogFiles(src *simulator.LogSource, summary []byte) *simulator.LogSource {
	var c traffic.Combined
	if json.Unmarshal(summary, &c) != nil || len(c.Files) < 2 {
		return src
	}
	for _, f := range c.Files {
		l := simulator.LogSource{File: f.Name, Format: f.Format, RowsRead: f.RowsRead, RowsUsed: f.RowsUsed,
			Start: f.Start, End: f.End, RequestsPerDay: f.RequestsPerDay}
		for _, n := range f.RowsSkipped {
			l.RowsSkipped += n
		}
		src.Files = append(src.Files, l)
	}
	return src
}

// LogsView is the part of an upload's page about its files: each file,
// what combining them found, and the form that adds one more.
type LogsView struct {
	UploadID string
	Files    []LogFileView
	Findings []string
	Formats  []string
	// Problem and Fields are what was wrong with the last file sent.
	Problem string
	Fields  map[string]string
}

// LogFileView is one file of an upload, as its page lists it.
type LogFileView struct {
	N                             int
	Name, Format, Rows, Span, IDs string
	Requests, Dropped, Duplicates int64
	Overlap, Switch, SwitchLabel  string
	Warnings, Skipped             []string
}

// logsView lays out an upload's files from its summary.
func (s *Server) logsView(up store.Upload) LogsView {
	v := LogsView{UploadID: up.ID, Formats: traffic.FormatNames(), Fields: map[string]string{}}
	var c traffic.Combined
	if json.Unmarshal(up.Summary, &c) != nil {
		return v
	}
	for i, f := range c.Files {
		format := f.Format
		if f.Container != "" && f.Container != f.Format {
			format += " (" + f.Container + ")"
		}
		if f.Gzip {
			format += ", gzip"
		}
		fv := LogFileView{N: i + 1, Name: f.Name, Format: format, Requests: f.Requests, Dropped: f.DroppedRequests,
			Duplicates: f.DuplicateRows, Overlap: f.Overlap, Warnings: f.Warnings}
		fv.Rows = fmt.Sprintf("%s read, %s used", traffic.FormatCount(f.RowsRead), traffic.FormatCount(f.RowsUsed))
		for _, reason := range sortedKeys(f.RowsSkipped) {
			if n := f.RowsSkipped[reason]; n > 0 {
				name := skipReasons[reason]
				if name == "" {
					name = strings.ReplaceAll(reason, "_", " ")
				}
				fv.Rows += fmt.Sprintf(", %s skipped (%s)", traffic.FormatCount(n), name)
			}
		}
		if !f.Start.IsZero() {
			fv.Span = fmt.Sprintf("%s to %s", f.Start.UTC().Format("2006-01-02 15:04"), f.End.UTC().Format("2006-01-02 15:04 UTC"))
		}
		fv.IDs = f.IDColumn
		if fv.IDs == "" {
			fv.IDs = "none: " + f.NoIDs
			if f.NoIDs == "" {
				fv.IDs = "not recorded (read before gatewise kept them)"
			}
		}
		switch f.Overlap {
		case traffic.OverlapKeep:
			fv.Switch, fv.SwitchLabel = traffic.OverlapDrop, "Drop its requests where it overlaps earlier files"
		case traffic.OverlapDrop:
			fv.Switch, fv.SwitchLabel = traffic.OverlapKeep, "Keep its requests where it overlaps earlier files"
		}
		for _, p := range f.Examples {
			fv.Skipped = append(fv.Skipped, p.String())
		}
		v.Files = append(v.Files, fv)
	}
	for _, fd := range c.Findings {
		v.Findings = append(v.Findings, fd.Text)
	}
	return v
}
