package traffic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// AddedLog is a file to read into a combination of logs, and how.
type AddedLog struct {
	Name   string
	SHA256 string // of its bytes as given; empty when not known
	// Options are those it is read with.
	Options ReadOptions
	// IDColumn names its request id column; "" picks the format's, IDsNone
	// turns the check by request id off.
	IDColumn string
	// Overlap is OverlapKeep, OverlapDrop or "" (keep).
	Overlap string
}

// noWalk is why a log has no ids when its rows could not be walked: the
// reader says what is wrong with it.
const noWalk = "its rows could not be walked for ids"

// SameFileError refuses an added file with the bytes of an earlier one.
type SameFileError struct {
	Earlier string // the earlier file's name
	// Twice says the two have the same name too: the file was given twice.
	Twice bool
}

func (e *SameFileError) Error() string {
	if e.Twice {
		return "it is given twice (the same bytes): a log counts once"
	}
	return fmt.Sprintf("it has the same bytes as %s: the same file counts once", e.Earlier)
}

// RepeatsError refuses an added file every row of which repeats request
// ids of earlier files.
type RepeatsError struct {
	Of []string // the earlier files whose ids it repeats
}

func (e *RepeatsError) Error() string {
	return fmt.Sprintf("every row repeats a request id of %s: it adds nothing", strings.Join(e.Of, " and "))
}

// ReadError is the reader's refusal of an added file (of its rows less
// those earlier files have): what it says of the file, where the other
// errors of ReadAdded are about the combination or the caller's options.
// The web upload tries another way of reading a file the reader refuses.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// ReadAdded reads one more file of a combination, as gatewise does with
// every file after the first, on the command line and on the web: it is
// refused when it has the same bytes as an earlier file (*SameFileError),
// or when every row repeats request ids of earlier files (*RepeatsError);
// otherwise its rows whose ids an earlier file has are left out before it
// is read, and counted in its summary as skipped. open returns the file
// from its first byte and is called twice, for its ids and for its rows.
//
// An error names what is wrong without the file's name, which the caller
// puts before it. A file the reader refuses comes back with the summary
// the reader filled, so its bad rows can be shown, and a *ReadError.
func ReadAdded(ctx context.Context, open func() (io.ReadCloser, error), add AddedLog, earlier []LogFile) (LogFile, error) {
	f := LogFile{Name: add.Name, SHA256: add.SHA256, Overlap: add.Overlap}
	switch add.Overlap {
	case "", OverlapKeep, OverlapDrop:
	default:
		return f, fmt.Errorf("overlap %q is neither %s nor %s", add.Overlap, OverlapKeep, OverlapDrop)
	}
	if i := SameFile(earlier, add.SHA256); i >= 0 {
		return f, &SameFileError{Earlier: earlier[i].Name, Twice: earlier[i].Name == add.Name}
	}
	sets := make([]*IDSet, len(earlier))
	room := MaxIDs
	for i := range earlier {
		sets[i] = earlier[i].IDs
		room -= earlier[i].IDs.Len()
	}
	scan, err := scanFile(ctx, open, add, sets, max(room, 0))
	if err != nil {
		return f, err
	}
	if scan.DuplicateRows > 0 && scan.DuplicateRows == scan.Rows {
		var of []string
		for i, n := range scan.Duplicates {
			if n > 0 {
				of = append(of, earlier[i].Name)
			}
		}
		return f, &RepeatsError{Of: of}
	}
	r, err := open()
	if err != nil {
		return f, err
	}
	defer r.Close()
	profile, sum, err := readWithout(ctx, r, add.Options, scan)
	CountDuplicates(&sum, scan.DuplicateRows)
	sum.Gzip = sum.Gzip || scan.Gzip
	f.Profile, f.Summary = profile, sum
	f.IDs, f.IDColumn, f.NoIDs, f.IDPartial, f.Repeats, f.Duplicates = scan.IDs, scan.Column, scan.NoIDs, scan.Partial, scan.Repeats, scan.Duplicates
	if f.IDColumn != "" && f.IDs == nil {
		f.IDs = &IDSet{} // every id it had was an earlier file's
	}
	if err != nil && ctx.Err() == nil {
		err = &ReadError{Err: err}
	}
	return f, err
}

// scanFile reads a file's request ids against the earlier files' sets. A
// file that cannot be walked has none: the reader will say why. An id
// column asked for that the file does not have is the caller's to fix.
func scanFile(ctx context.Context, open func() (io.ReadCloser, error), add AddedLog, sets []*IDSet, room int) (*IDScan, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	scan, err := ScanIDs(ctx, r, add.Options, add.IDColumn, sets, room)
	var col *IDColumnError
	switch {
	case errors.As(err, &col):
		return nil, err
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return &IDScan{NoIDs: noWalk, Duplicates: make([]int64, len(sets))}, nil
	}
	return scan, nil
}

// readWithout reads r, less the rows scan found in earlier files: those are
// filtered out of a second copy of the file on its way to the reader, which
// sees every other byte where it was.
//
// The copy is read as the file was: the reader tells a container and a
// format by the first rows, and those may be the ones left out. With them
// gone, a damaged line (two JSON values on it) can come first and make JSON
// Lines look like a JSON document, or a first row of other keys another
// format. So the copy is read with the format detected on the file, which
// for a log read through a mapping alone is its container too; a preset's
// copy whose start would make the reader take another container is refused,
// naming the line, rather than read another way.
func readWithout(ctx context.Context, r io.Reader, o ReadOptions, scan *IDScan) (*Profile, Summary, error) {
	if scan.DuplicateRows == 0 {
		return Read(ctx, r, o)
	}
	if (o.Format == "" || o.Format == "auto") && scan.read.format != "" {
		o.Format = scan.read.format
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(scan.Filter(ctx, r, pw))
	}()
	profile, sum, err := readAs(ctx, pr, o, scan.read)
	// The reader may stop before the end (a refused file): the filter's
	// next write then fails, and it returns.
	pr.CloseWithError(errors.New("the reader stopped"))
	<-done
	return profile, sum, err
}

// readAs reads a filtered copy, after checking that its start makes the
// reader take it in as want, the file's own layout.
func readAs(ctx context.Context, r io.Reader, o ReadOptions, want layout) (*Profile, Summary, error) {
	head := make([]byte, sniffBytes)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	rest := io.MultiReader(bytes.NewReader(head), r)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Read(ctx, rest, o) // the filter failed: the reader says how, as of any file
	}
	c, err := chooseContainer(head, o.Format)
	if err != nil {
		// The format found on the file does not fit what the copy looks
		// like: say what it looks like.
		c, _ = chooseContainer(head, "auto")
	}
	lines, _, isOTLP := otlpInput(head, c, &o)
	got, shape := layout{c: c, otlp: isOTLP, otlpLines: lines && isOTLP}, want
	shape.format = ""
	if err != nil || got != shape {
		return nil, Summary{}, containerChange(head, want, got)
	}
	return Read(ctx, rest, o)
}

// containerChange says why a file whose rows repeating earlier files' ids
// are left out would be read as another container, naming the line that
// then comes first.
func containerChange(head []byte, was, would layout) error {
	lead := len(head) - len(bytes.TrimLeft(head, " \t\r\n"))
	line := 1 + bytes.Count(head[:lead], []byte{'\n'})
	return &fatalError{line: int64(line), msg: fmt.Sprintf("with the rows before it left out (their request ids are an earlier file's), this line would make the rest read as %s rather than %s as in the file: correct or remove it, then add the file again",
		layoutName(would), layoutName(was))}
}

// layoutName names a container for messages.
func layoutName(l layout) string {
	switch {
	case l.otlp && l.otlpLines:
		return "OTLP JSON Lines"
	case l.otlp:
		return "an OTLP JSON document"
	case l.c == containerJSONL:
		return "JSON Lines"
	case l.c == containerJSON:
		return "a JSON document"
	}
	return "CSV"
}
