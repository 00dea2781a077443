package traffic

import (
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

// ReadAdded reads one more file of a combination, as gatewise does with
// every file after the first: it is refused when it has the same bytes as
// an earlier file, or when every row repeats request ids of earlier files;
// otherwise its rows whose ids an earlier file has are left out before it
// is read, and counted in its summary as skipped. open returns the file
// from its first byte and is called twice, for its ids and for its rows.
//
// An error names what is wrong without the file's name, which the caller
// puts before it. A file the reader refuses comes back with the summary
// the reader filled, so its bad rows can be shown.
func ReadAdded(ctx context.Context, open func() (io.ReadCloser, error), add AddedLog, earlier []LogFile) (LogFile, error) {
	f := LogFile{Name: add.Name, SHA256: add.SHA256, Overlap: add.Overlap}
	switch add.Overlap {
	case "", OverlapKeep, OverlapDrop:
	default:
		return f, fmt.Errorf("overlap %q is neither %s nor %s", add.Overlap, OverlapKeep, OverlapDrop)
	}
	if i := SameFile(earlier, add.SHA256); i >= 0 {
		if earlier[i].Name == add.Name {
			return f, fmt.Errorf("it is given twice (the same bytes): a log counts once")
		}
		return f, fmt.Errorf("it has the same bytes as %s: the same file counts once", earlier[i].Name)
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
		return f, fmt.Errorf("every row repeats a request id of %s: it adds nothing", strings.Join(of, " and "))
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
func readWithout(ctx context.Context, r io.Reader, o ReadOptions, scan *IDScan) (*Profile, Summary, error) {
	if scan.DuplicateRows == 0 {
		return Read(ctx, r, o)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(scan.Filter(ctx, r, pw))
	}()
	profile, sum, err := Read(ctx, pr, o)
	// The reader may stop before the end (a refused file): the filter's
	// next write then fails, and it returns.
	pr.CloseWithError(errors.New("the reader stopped"))
	<-done
	return profile, sum, err
}
