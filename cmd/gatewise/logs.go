package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gatewise/simulator/traffic"
)

// Several request logs read as one, as an upload combines them on the web
// (LiteLLM's SpendLogs beside its ErrorLogs, one export a day): ingest and
// simulate read them with the same library calls the upload makes, so the
// command line and the web skip, keep and report the same rows.

// logFiles collects repeated --logs files.
type logFiles []string

func (l *logFiles) String() string     { return strings.Join(*l, ",") }
func (l *logFiles) Set(v string) error { *l = append(*l, v); return nil }

// perFile is a log option given once for every file, or once per file in
// the files' order.
type perFile struct {
	def    string
	values []string
}

func (p *perFile) String() string {
	if p == nil || len(p.values) == 0 {
		if p == nil {
			return ""
		}
		return p.def
	}
	return strings.Join(p.values, " ")
}

func (p *perFile) Set(v string) error { p.values = append(p.values, v); return nil }

// check refuses a count of values that is neither one nor one per file.
// With one file the last value counts, as a plain flag's does.
func (p *perFile) check(name string, files int) error {
	if n := len(p.values); files > 1 && n > 1 && n != files {
		return &exitError{code: 2, err: fmt.Errorf("--%s is given %d times for %d files: give it once for every file, or once per file in their order", name, n, files)}
	}
	return nil
}

// at is the value for file i.
func (p *perFile) at(i int) string {
	switch n := len(p.values); {
	case n == 0:
		return p.def
	case n == 1 || i >= n:
		return p.values[n-1]
	default:
		return p.values[i]
	}
}

// logFlags are the options of the logs a command reads.
type logFlags struct {
	format, mapping, start, ids, overlap perFile
}

// check validates the options for files logs before any is read: the
// counts, the mappings, the starts and the overlap words.
func (l *logFlags) check(files int) error {
	for _, f := range []struct {
		name string
		p    *perFile
	}{{"format", &l.format}, {"map", &l.mapping}, {"start", &l.start}, {"ids", &l.ids}, {"overlap", &l.overlap}} {
		if err := f.p.check(f.name, files); err != nil {
			return err
		}
	}
	for i := range files {
		switch w := l.overlap.at(i); w {
		case "", traffic.OverlapKeep, traffic.OverlapDrop:
		default:
			return &exitError{code: 2, err: fmt.Errorf("--overlap %q: want %s or %s", w, traffic.OverlapKeep, traffic.OverlapDrop)}
		}
	}
	return nil
}

// options are the read options of file i: base with its format, mapping
// and start.
func (l *logFlags) options(base traffic.ReadOptions, i int) (traffic.ReadOptions, error) {
	o := base
	o.Format = l.format.at(i)
	if o.Format == "" {
		o.Format = "auto"
	}
	var err error
	if o.Mapping, err = traffic.ParseMapping(l.mapping.at(i)); err != nil {
		return o, &exitError{code: 2, err: fmt.Errorf("--map: %w", err)}
	}
	if s := l.start.at(i); s != "" {
		if o.Start, err = parseStart(s); err != nil {
			return o, &exitError{code: 2, err: err}
		}
	}
	if err := o.Validate(); err != nil {
		return o, &exitError{code: 2, err: err}
	}
	return o, nil
}

// logError is a file of several that could not be read or was refused:
// which, why, and what the reader saw of it.
type logError struct {
	file     traffic.LogFile
	n, files int // file n (from 1) of files
	err      error
}

func (e *logError) Error() string {
	return fmt.Sprintf("%s (file %d of %d): %v", e.file.Name, e.n, e.files, e.err)
}
func (e *logError) Unwrap() error { return e.err }

// readLogs reads files as one log, each with its options, checked against
// the files before it as an upload checks an added file. A file that
// cannot be opened or read, or that is refused, ends the reading with a
// *logError: no combination is made of the others.
func readLogs(ctx context.Context, names []string, opts []traffic.ReadOptions, flags *logFlags) (*traffic.Profile, traffic.Combined, []traffic.LogFile, error) {
	if i := slices.Index(names, "-"); i >= 0 && slices.Contains(names[i+1:], "-") {
		return nil, traffic.Combined{}, nil, &exitError{code: 2, err: errors.New("- (standard input) is given twice: it can be read once")}
	}
	var files []traffic.LogFile
	stdin := ""
	defer func() {
		if stdin != "" {
			os.Remove(stdin)
		}
	}()
	for i, name := range names {
		path := name
		if name == "-" {
			var err error
			if stdin, err = spool(os.Stdin); err != nil {
				return nil, traffic.Combined{}, nil, &logError{file: traffic.LogFile{Name: name}, n: i + 1, files: len(names), err: err}
			}
			path = stdin
		}
		open := func() (io.ReadCloser, error) { return os.Open(path) }
		sum, err := fileSHA256(path)
		if err != nil {
			return nil, traffic.Combined{}, nil, err // names the file
		}
		f, err := traffic.ReadAdded(ctx, open, traffic.AddedLog{Name: name, SHA256: sum, Options: opts[i],
			IDColumn: flags.ids.at(i), Overlap: flags.overlap.at(i)}, files)
		if errors.Is(err, context.Canceled) {
			return nil, traffic.Combined{}, nil, err
		}
		if err != nil {
			return nil, traffic.Combined{}, nil, &logError{file: f, n: i + 1, files: len(names), err: err}
		}
		files = append(files, f)
	}
	profile, combined, err := traffic.Combine(files, opts[0])
	if err != nil {
		return nil, combined, files, err
	}
	return profile, combined, files, nil
}

// spool copies standard input to a file, since a log of several is read
// twice (its ids, then its rows).
func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "gatewise-stdin-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// fileSHA256 is the checksum that tells two files of the same bytes.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeFiles prints each file of a combination and what combining them
// found, as an upload's page lists them.
func writeFiles(w io.Writer, c traffic.Combined, files []traffic.LogFile) {
	for i, f := range c.Files {
		gz := ""
		if f.Gzip {
			gz = ", gzip"
		}
		fmt.Fprintf(w, "file %d: %s: %s (%s), %s%s\n", i+1, f.Name, f.Format, f.FormatTitle, f.Container, gz)
		if i < len(files) && c.Mapping == "" {
			fmt.Fprintf(w, "  mapping: %s\n", files[i].Summary.Mapping)
		}
		rows := fmt.Sprintf("  rows: %d read, %d used, %d skipped", f.RowsRead, f.RowsUsed, f.RowsRead-f.RowsUsed)
		var reasons []string
		for reason, n := range sortedCounts(f.RowsSkipped) {
			if n > 0 {
				reasons = append(reasons, fmt.Sprintf("%s %d", reason, n))
			}
		}
		if len(reasons) > 0 {
			rows += " (" + strings.Join(reasons, ", ") + ")"
		}
		fmt.Fprintln(w, rows)
		for _, p := range f.Examples {
			fmt.Fprintf(w, "    %s\n", p)
		}
		if !f.Start.IsZero() {
			fmt.Fprintf(w, "  span: %s to %s (%s)\n", f.Start.Format(time.RFC3339), f.End.Format(time.RFC3339), traffic.DurationWords(f.End.Sub(f.Start)))
		}
		req := fmt.Sprintf("  requests: %d", f.Requests)
		if f.DroppedRequests > 0 {
			req += fmt.Sprintf(", %d dropped where it overlaps earlier files", f.DroppedRequests)
		}
		fmt.Fprintln(w, req)
		switch {
		case f.IDColumn != "":
			fmt.Fprintf(w, "  request ids: %s\n", f.IDColumn)
		case f.NoIDs != "":
			fmt.Fprintf(w, "  request ids: none: %s\n", f.NoIDs)
		}
		if f.DuplicateRows > 0 {
			fmt.Fprintf(w, "  duplicates: %s earlier files' request ids: skipped\n", traffic.Plural(f.DuplicateRows, "row repeats", "rows repeat"))
		}
		switch f.Overlap {
		case traffic.OverlapKeep:
			fmt.Fprintln(w, "  overlap: kept where it overlaps earlier files (--overlap drop leaves its requests there out)")
		case traffic.OverlapDrop:
			fmt.Fprintln(w, "  overlap: dropped where it overlaps earlier files, as --overlap drop asks")
		}
		for _, x := range f.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", x)
		}
	}
	if len(c.Findings) > 0 {
		fmt.Fprintln(w, "found:")
		for _, fd := range c.Findings {
			fmt.Fprintf(w, "  - %s\n", fd.Text)
		}
	}
}

// combinedName names a combination of files by theirs.
func combinedName(names []string) string {
	return strings.Join(names, " + ")
}
