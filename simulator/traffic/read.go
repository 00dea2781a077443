package traffic

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// sniffBytes is how much of the input detection looks at.
const sniffBytes = 64 << 10

// Read turns a request log into a traffic profile and the summary the user
// sees. It streams: one goroutine reads (and decompresses) the input and cuts
// it into chunks of whole rows, Workers goroutines parse and aggregate their
// chunks into partial profiles, and the partials are merged at the end; at
// most a few chunks are in flight, so memory does not grow with the file.
//
// The error is non-nil when the file cannot be used: unreadable, of no known
// format, or with more than MaxBadFraction bad rows. The summary is filled
// as far as reading got, so it can still be shown. opts.Known may be called
// from a goroutine of Read's own while the rows are read.
func Read(ctx context.Context, r io.Reader, opts ReadOptions) (*Profile, Summary, error) {
	var sum Summary
	o, err := opts.withDefaults()
	if err != nil {
		return nil, sum, err
	}
	in, gz, err := openInput(r, o.MaxBytes)
	if err != nil {
		return nil, sum, err
	}
	in.c.maxRatio = o.MaxGzipRatio
	sum.Gzip = gz

	head, err := in.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, sum, readError(err, gz)
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		in.Discard(3)
		head = head[3:]
	}
	if err := checkText(head); err != nil {
		return nil, sum, err
	}
	c, err := chooseContainer(head, o.Format)
	if err != nil {
		return nil, sum, err
	}
	sum.Container = containerNames[c]

	var src source
	if ot := newOTLPSource(in, head, c, &o); ot != nil {
		src = ot // OTLP's spans become rows of their own (otlp.go)
	} else if c == containerJSON {
		src = newDocSource(in, o.MaxLineBytes)
	} else {
		src = newLineSource(in, c == containerCSV, o.MaxLineBytes)
	}
	first := &chunk{}
	more, err := src.next(first)
	if err != nil {
		return nil, sum, readError(err, gz)
	}
	if !more {
		return nil, sum, errors.New("the file has no rows")
	}
	pl, warnings, err := detect(first, c, o)
	if err != nil {
		return nil, sum, err
	}
	if ls, ok := src.(*lineSource); ok {
		ls.header = pl.header
	}
	clock, clockWarnings := settleClock(pl, first, &o)
	sum.Clock = clock
	sum.Mapping, sum.Fields = pl.describe()
	sum.Format, sum.FormatTitle, sum.Warnings = pl.format, pl.title, append(warnings, clockWarnings...)

	// Known may load a price catalog the first time it is asked (the CLI
	// does, taking milliseconds): a log that names models has it asked in
	// parallel with the reading, not after it.
	warm := make(chan struct{})
	if o.Known != nil && pl.reads[FieldModel] {
		go func() {
			defer close(warm)
			o.Known("")
		}()
	} else {
		close(warm)
	}
	workers, readErr := runPipeline(ctx, src, first, pl, &o)
	<-warm
	if err := ctx.Err(); err != nil {
		return nil, sum, err
	}
	sum.Bytes = in.n()
	prof := merge(workers, src, pl, &o, &sum)
	for _, w := range workers {
		if w.err != nil {
			return nil, sum, w.err
		}
	}
	if readErr != nil {
		return nil, sum, readError(readErr, gz)
	}
	if err := presetReport(workers, src, pl, &sum); err != nil {
		return nil, sum, err
	}
	if sum.RowsRead == 0 {
		return nil, sum, errors.New("the file has a header but no rows")
	}
	bad := sum.RowsRead - sum.RowsUsed
	if float64(bad) > o.MaxBadFraction*float64(sum.RowsRead) {
		return nil, sum, fmt.Errorf("%d of %d rows are bad (%.1f%%, more than the %.1f%% allowed)%s",
			bad, sum.RowsRead, 100*float64(bad)/float64(sum.RowsRead), 100*o.MaxBadFraction, firstExample(sum))
	}
	if sum.RowsUsed == 0 {
		return nil, sum, errors.New("no usable rows")
	}
	return prof, sum, nil
}

func firstExample(s Summary) string {
	if len(s.Examples) == 0 {
		return ""
	}
	return "; first: " + s.Examples[0].String()
}

// countedInput is the buffered, decompressed, size-limited input.
type countedInput struct {
	*bufio.Reader
	c *counter
}

func (c countedInput) n() int64 { return c.c.n }

// counter counts the bytes handed to the reader and refuses input past
// MaxBytes, or gzip input that expands past MaxGzipRatio.
type counter struct {
	r   io.Reader
	n   int64
	max int64
	// raw counts the compressed bytes under a gzip stream (nil otherwise).
	raw      *rawCounter
	maxRatio float64
}

type rawCounter struct {
	r io.Reader
	n int64
}

func (c *rawCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ratioFloor is how much gzip input decompresses before its ratio is
// judged: the start of a file can compress far better than the whole.
const ratioFloor = 64 << 20

var (
	errTooBig   = errors.New("input larger than the limit")
	errGzipBomb = errors.New("the gzip data expands")
)

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.max > 0 && c.n > c.max {
		return n, fmt.Errorf("%w of %d bytes", errTooBig, c.max)
	}
	if c.raw != nil && c.n > ratioFloor && float64(c.n) > c.maxRatio*float64(c.raw.n) {
		return n, fmt.Errorf("%w more than %g times (%s from %s so far), the most gatewise allows: refused as a likely decompression bomb",
			errGzipBomb, c.maxRatio, byteSize(c.n), byteSize(c.raw.n))
	}
	return n, err
}

// byteSize writes a byte count for messages.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// openInput recognises gzip by its magic number and refuses other binary
// containers by theirs, with a message that says what the file looks like.
// Gzip input gets the default expansion bound; Read sets its own.
func openInput(r io.Reader, maxBytes int64) (countedInput, bool, error) {
	raw := &rawCounter{r: r}
	br := bufio.NewReaderSize(raw, 64<<10)
	magic, _ := br.Peek(8)
	c := &counter{r: br, max: maxBytes, maxRatio: DefaultMaxGzipRatio}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(br)
		if err != nil {
			return countedInput{}, true, fmt.Errorf("the file starts like gzip but is not valid gzip: %v", err)
		}
		c.r, c.raw = z, raw
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		return countedInput{}, false, errors.New("the file is a zip archive: unzip it and give the CSV or JSON inside (gzip is read directly)")
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}), bytes.HasPrefix(magic, []byte("BZh")),
		bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return countedInput{}, false, errors.New("the file is zstd, bzip2 or xz compressed: decompress it or recompress with gzip")
	case bytes.HasPrefix(magic, []byte("PAR1")):
		return countedInput{}, false, errors.New("the file is Parquet: export CSV or JSONL instead")
	case bytes.HasPrefix(magic, []byte("SQLite f")):
		return countedInput{}, false, errors.New("the file is a SQLite database: export the table as CSV")
	}
	return countedInput{Reader: bufio.NewReaderSize(c, 256<<10), c: c}, c.raw != nil, nil
}

// readError says what a read error means for the user.
func readError(err error, gz bool) error {
	var fe *fatalError
	switch {
	case errors.As(err, &fe):
		return err
	case errors.Is(err, errTooBig), errors.Is(err, errGzipBomb):
		return err
	case gz && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader)):
		return fmt.Errorf("the gzip data is truncated or corrupt (%v): the file cannot be trusted", err)
	}
	return fmt.Errorf("reading the input: %w", err)
}

// checkText refuses binary data and text that is not UTF-8, looking at the
// start of the input (rows further on are checked one by one).
func checkText(head []byte) error {
	if len(bytes.TrimSpace(head)) == 0 {
		return errors.New("the file is empty")
	}
	i := textFault(head)
	if i == len(head) {
		return nil
	}
	// A NUL anywhere in the window means binary data (an image, an archive)
	// even when a non-UTF-8 byte comes first: no text encoding has NULs.
	if z := bytes.IndexByte(head, 0); z >= 0 {
		i = z
	}
	if head[i] != 0 && len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
		return nil // a character cut by the sniff window
	}
	line := 1 + bytes.Count(head[:i], []byte{'\n'})
	col := utf8.RuneCount(head[bytes.LastIndexByte(head[:i], '\n')+1:i]) + 1
	if head[i] == 0 {
		return fmt.Errorf("line %d: the file is binary, not text (a NUL byte at character %d): gatewise reads CSV, JSON or JSONL, optionally gzip-compressed", line, col)
	}
	return fmt.Errorf("line %d: the file is not UTF-8 text (byte 0x%02x at character %d); convert it, for example with iconv -f latin1 -t utf-8", line, head[i], col)
}

// chooseContainer tells CSV from JSON Lines from a JSON document. A file
// whose first line is one complete JSON object is JSON Lines; a file opening
// with '[' or a pretty-printed '{' is a document.
func chooseContainer(head []byte, format string) (container, error) {
	trim := bytes.TrimLeft(head, " \t\r\n")
	looks := containerCSV
	if len(trim) > 0 && (trim[0] == '[' || trim[0] == '{') {
		looks = containerJSON
		if trim[0] == '{' {
			line := trim
			if i := bytes.IndexByte(trim, '\n'); i >= 0 {
				line = trim[:i]
			}
			var s jscan
			if n, err := valueEnd(&s, line); err == nil && len(bytes.TrimSpace(line[n:])) == 0 {
				looks = containerJSONL
			}
		}
	}
	switch format {
	case "csv":
		return containerCSV, nil
	case "jsonl":
		return containerJSONL, nil
	case "json":
		return containerJSON, nil
	case "", "auto":
		return looks, nil
	}
	p, _ := presetByName(format)
	if looks == containerCSV && !p.csv {
		return 0, fmt.Errorf("format %s is JSON, but the file looks like CSV", format)
	}
	if looks != containerCSV && !p.json {
		return 0, fmt.Errorf("format %s is CSV, but the file looks like JSON", format)
	}
	return looks, nil
}

// detect reads the header (CSV) or the first row (JSON) from the first chunk
// and resolves the format: the forced preset, the detected one, or the plain
// mapping.
func detect(first *chunk, c container, o ReadOptions) (*plan, []string, error) {
	var header []string
	var keys map[string]bool
	switch c {
	case containerCSV:
		data := first.buf[first.start:]
		for len(data) > 0 && (data[0] == '\n' || data[0] == '\r') {
			if data[0] == '\n' {
				first.line++
			}
			data, first.start = data[1:], first.start+1
		}
		var sp csvSplitter
		n, _, err, _ := sp.split(data)
		if errors.Is(err, errTooManyFields) {
			return nil, nil, &fatalError{line: first.line, msg: fmt.Sprintf("the header has more than %d columns: not a request log", maxColumns)}
		}
		if err != nil {
			return nil, nil, headerError(data, first.line, &sp, err)
		}
		keys = map[string]bool{}
		for _, f := range sp.fields {
			h := strings.TrimSpace(string(f))
			header = append(header, h)
			keys[h] = true
		}
		first.line += int64(bytes.Count(data[:n], []byte{'\n'}))
		first.start += n
	default:
		rec, line := firstJSON(first, c)
		if rec == nil {
			return nil, nil, errors.New("the file has no JSON rows")
		}
		var err error
		keys, err = rowKeys(rec)
		if err != nil {
			return nil, nil, &fatalError{line: line, msg: "the first row is not valid JSON: " + err.Error()}
		}
	}
	var p preset
	switch o.Format {
	case "", "auto":
		var ok bool
		p, ok = detectPreset(keys, c != containerCSV)
		if !ok && len(o.Mapping) == 0 {
			what := "columns"
			names := header
			if c != containerCSV {
				what, names = "keys", slices.Sorted(maps.Keys(keys))
			}
			if len(names) > 30 {
				names = append(names[:30], "…")
			}
			return nil, nil, fmt.Errorf("the %s %s match no known format (%s); name them with --map timestamp=COLUMN,input_tokens=COLUMN,output_tokens=COLUMN,... or choose one with --format (%s)",
				strings.ToUpper(containerNames[c]), what, strings.Join(names, ", "), strings.Join(FormatNames(), ", "))
		}
	case "csv", "jsonl", "json":
	default:
		p, _ = presetByName(o.Format)
	}
	return newPlan(p, o.Mapping, c, header, keys, o)
}

// headerError says what is wrong with a CSV header that does not split.
func headerError(data []byte, line int64, sp *csvSplitter, err error) error {
	if err == errOpenQuote {
		return openQuoteError(data, sp.quoteAt, line, nil, "the header row opens a quoted field here that never closes")
	}
	return &fatalError{line: line, msg: "the header row is not valid CSV: " + err.Error()}
}

// firstJSON finds the first row of a JSON input, unwrapping a page.
func firstJSON(first *chunk, c container) ([]byte, int64) {
	var rec []byte
	line := first.line
	if c == containerJSON {
		if len(first.spans) == 0 {
			return nil, 0
		}
		rec, line = first.buf[first.spans[0].off:first.spans[0].end], first.spans[0].line
	} else {
		data := first.buf[first.start:]
		for len(data) > 0 {
			e := bytes.IndexByte(data, '\n')
			l := data
			if e >= 0 {
				l, data = data[:e], data[e+1:]
			} else {
				data = nil
			}
			if len(bytes.TrimSpace(l)) > 0 {
				rec = l
				break
			}
			line++
		}
	}
	if rec == nil {
		return nil, 0
	}
	// A page: look at its first row instead.
	if keys, err := rowKeys(rec); err == nil && !keys["model"] && !keys["usage"] {
		var s jscan
		var inner []byte
		walkJSON(&s, rec, func(path []byte, v jvalue) bool {
			if inner == nil && slices.Contains(wrapperKeys, string(path)) {
				switch {
				case v.kind == jArray:
					var es jscan
					arr := v.raw
					i := 1
					for i < len(arr) && (arr[i] == ' ' || arr[i] == '\n' || arr[i] == '\t' || arr[i] == '\r') {
						i++
					}
					if i < len(arr) && arr[i] == '{' {
						if n, err := valueEnd(&es, arr[i:]); err == nil {
							inner = arr[i : i+n]
						}
					}
				case v.kind == jObject && v.raw != nil:
					inner = v.raw
				}
			}
			return false
		})
		if inner != nil {
			return inner, line
		}
	}
	return rec, line
}

// rowKeys lists the dotted paths of a row, four levels deep.
func rowKeys(rec []byte) (map[string]bool, error) {
	keys := map[string]bool{}
	var s jscan
	err := walkJSON(&s, rec, func(path []byte, v jvalue) bool {
		keys[string(path)] = true
		return v.raw == nil && bytes.Count(path, []byte{'.'}) < 4
	})
	return keys, err
}

// runPipeline reads chunks in this goroutine's helper and parses them in
// o.Workers goroutines. Chunks are recycled through a fixed pool, which is
// what bounds memory.
func runPipeline(ctx context.Context, src source, first *chunk, pl *plan, o *ReadOptions) ([]*worker, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	poolSize := 2*o.Workers + 1
	free := make(chan *chunk, poolSize)
	for range poolSize - 1 {
		free <- &chunk{}
	}
	work := make(chan *chunk, o.Workers)
	workers := make([]*worker, o.Workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := newWorker(pl, o)
		workers[i] = w
		wg.Go(func() {
			for c := range work {
				if ctx.Err() == nil && w.err == nil {
					w.process(c)
					if w.err != nil {
						cancel()
					}
				}
				free <- c
			}
		})
	}
	var readErr error
	seq := 0
	c := first
	for {
		c.seq = seq
		seq++
		select {
		case work <- c:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case c = <-free:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		more, err := src.next(c)
		if err != nil {
			readErr = err
			break
		}
		if !more {
			break
		}
	}
	close(work)
	wg.Wait()
	return workers, readErr
}

// merge combines the workers' partial profiles into the profile and fills
// the summary.
func merge(workers []*worker, src source, pl *plan, o *ReadOptions, sum *Summary) *Profile {
	sum.RowsSkipped = map[string]int64{}
	sum.Errors = map[string]int64{}
	for c := range NumErrorClasses {
		sum.Errors[c.String()] = 0
	}
	long, nlong := src.dropped()
	if nlong > 0 {
		sum.RowsRead += nlong
		sum.RowsSkipped[ReasonTooLong] += nlong
		sum.Examples = append(sum.Examples, long...)
	}

	// Global names: the architecture's routes first, then the rest sorted,
	// the catch-all last; origins from the mix first.
	routeSet, originSet := map[string]bool{}, map[string]bool{}
	for _, w := range workers {
		for _, n := range w.routes.names {
			routeSet[n] = true
		}
		for _, n := range w.origins.names {
			originSet[n] = true
		}
	}
	var routes []string
	for _, r := range o.Routes {
		routes = append(routes, r.Name)
		delete(routeSet, r.Name)
	}
	hasOther := routeSet[o.OtherRoute]
	delete(routeSet, o.OtherRoute)
	routes = append(routes, slices.Sorted(maps.Keys(routeSet))...)
	if hasOther {
		routes = append(routes, o.OtherRoute)
	}
	origins := slices.Clone(pl.mixNames)
	for _, n := range origins {
		delete(originSet, n)
	}
	origins = append(origins, slices.Sorted(maps.Keys(originSet))...)
	if len(routes) == 0 {
		routes = []string{"all"}
	}
	if len(origins) == 0 {
		origins = []string{"any"}
	}
	routeIx, originIx := indexOf(routes), indexOf(origins)

	// Each worker's cells, on the global routes and origins and sorted, are
	// merged in one pass (mergeCells); a map of the Azure trace's 16,000
	// cells cost 5 ms, at the end, with one core.
	lists := make([][]gcell, 0, len(workers))
	hists := make([]Histogram, len(routes)*len(origins))
	hasLat := false
	minBin, maxBin := int64(math.MaxInt64), int64(math.MinInt64)
	models := map[string]*Count{}
	var chunks []chunkStat
	var lat LatencySummary
	var latSum float64
	minTs, maxTs := int64(math.MaxInt64), int64(math.MinInt64)
	users := map[uint64]struct{}{}
	for _, w := range workers {
		sum.RowsRead += w.rowsRead
		sum.RowsUsed += w.rowsUsed
		for k, v := range w.skipped {
			sum.RowsSkipped[k] += v
		}
		sum.Examples = append(sum.Examples, w.examples...)
		sum.CostUSD += w.cost
		sum.CostRows += w.costRows
		sum.OutOfOrder += w.outOfOrder
		chunks = append(chunks, w.chunks...)
		minTs, maxTs = min(minTs, w.minTs), max(maxTs, w.maxTs)
		lat.Count += w.latN
		latSum += w.latSum
		lat.MaxMs = max(lat.MaxMs, w.latMax)
		rmap := make([]uint16, len(w.routes.names))
		for i, n := range w.routes.names {
			rmap[i] = uint16(routeIx[n])
		}
		omap := make([]uint16, len(w.origins.names))
		for i, n := range w.origins.names {
			omap[i] = uint16(originIx[n])
		}
		l := make([]gcell, len(w.cells))
		for i := range w.cells {
			c := &w.cells[i]
			l[i] = gcell{bin: c.key.bin, ro: uint32(rmap[c.key.ro>>16])<<16 | uint32(omap[c.key.ro&0xffff]), c: c}
			minBin, maxBin = min(minBin, c.key.bin), max(maxBin, c.key.bin)
		}
		slices.SortFunc(l, gcell.cmp) // the rows of a log mostly come in time order: a pass
		lists = append(lists, l)
		for ro, h := range w.hists {
			hasLat = true
			dst := &hists[int(rmap[ro>>16])*len(origins)+int(omap[ro&0xffff])]
			for i := range h {
				dst[i] += h[i]
			}
		}
		for _, m := range w.models {
			if m.requests == 0 && m.input == 0 {
				continue
			}
			name := m.name
			if name == "" {
				name = "(none)"
			}
			cnt := models[name]
			if cnt == nil {
				cnt = &Count{Name: name}
				models[name] = cnt
			}
			cnt.Requests += m.requests
			if cnt.Route == "" && m.route >= 0 && int(m.route) < len(w.routes.names) {
				cnt.Route = w.routes.names[m.route]
			}
		}
		for h := range w.users {
			if len(users) < maxUsers {
				users[h] = struct{}{}
			} else {
				sum.UsersAtLeast = true
				break
			}
		}
		if len(w.users) >= maxUsers {
			sum.UsersAtLeast = true
		}
	}
	sum.Users = int64(len(users))

	// Out-of-order rows across chunk edges.
	slices.SortFunc(chunks, func(a, b chunkStat) int { return a.seq - b.seq })
	var prev int64 = math.MinInt64
	for _, c := range chunks {
		if !c.rows {
			continue
		}
		if c.first < prev {
			sum.OutOfOrder++
		}
		prev = c.last
	}
	if sum.OutOfOrder > 0 && sum.RowsUsed > 0 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("%d rows are earlier than the row before them; order does not change the profile", sum.OutOfOrder))
	}

	slices.SortFunc(sum.Examples, func(a, b Problem) int {
		if c := strings.Compare(a.Reason, b.Reason); c != 0 {
			return c
		}
		return int(a.Line - b.Line)
	})
	var kept []Problem
	for i, p := range sum.Examples {
		n := 0
		for j := i - 1; j >= 0 && sum.Examples[j].Reason == p.Reason; j-- {
			n++
		}
		if n < examplesPerReason {
			kept = append(kept, p)
		}
	}
	slices.SortFunc(kept, func(a, b Problem) int { return int(a.Line - b.Line) })
	sum.Examples = kept

	prof := &Profile{BinWidth: o.BinWidth, Routes: routes, Origins: origins}
	ncells := 0
	if merged := mergeCells(lists); len(merged) > 0 {
		width := int64(o.BinWidth)
		prof.Start = time.Unix(0, minBin*width).UTC()
		prof.Bins = int(maxBin - minBin + 1)
		for i := 0; i < len(merged); {
			k := merged[i]
			c := Cell{Bin: int32(k.bin - minBin), Route: uint16(k.ro >> 16), Origin: uint16(k.ro)}
			// A cell's parts are added in the workers' order, as its latency
			// sum is a float.
			for ; i < len(merged) && merged[i].bin == k.bin && merged[i].ro == k.ro; i++ {
				p := merged[i].c
				c.Demand.add(&p.d)
				c.LatencyMs += p.latSum
				c.Latencies += p.latN
			}
			prof.Cells = append(prof.Cells, c)
			prof.Total.add(&c.Demand)
		}
		ncells = len(prof.Cells)
	}
	if hasLat {
		prof.Latency = hists
		var all Histogram
		for _, h := range hists {
			for i := range h {
				all[i] += h[i]
			}
		}
		lat.MeanMs = latSum / float64(max(lat.Count, 1))
		lat.P50Ms, lat.P95Ms, lat.P99Ms = all.Quantile(0.5), all.Quantile(0.95), all.Quantile(0.99)
		sum.Latency = &lat
	}

	t := prof.Total
	sum.Requests, sum.InputTokens, sum.CachedInputTokens, sum.OutputTokens = t.Requests, t.Input, t.CachedInput, t.Output
	for c := range NumErrorClasses {
		sum.Errors[c.String()] = t.Errors[c]
	}
	if minTs <= maxTs {
		sum.Start, sum.End = time.Unix(0, minTs).UTC(), time.Unix(0, maxTs).UTC()
		sum.RequestsPerDay = prof.RequestsPerDay()
	}
	for _, name := range slices.Sorted(maps.Keys(models)) {
		cnt := models[name]
		if name != "(none)" && o.Known != nil {
			k := o.Known(name)
			cnt.Known = &k
			if !k {
				sum.UnknownModels = append(sum.UnknownModels, name)
			}
		}
		sum.Models = append(sum.Models, *cnt)
	}
	slices.SortStableFunc(sum.Models, func(a, b Count) int { return int(b.Requests - a.Requests) })
	perRoute := make([]int64, len(routes))
	perOrigin := make([]int64, len(origins))
	for _, c := range prof.Cells {
		perRoute[c.Route] += c.Demand.Requests
		perOrigin[c.Origin] += c.Demand.Requests
	}
	for i, n := range routes {
		sum.Routes = append(sum.Routes, Count{Name: n, Requests: perRoute[i]})
	}
	for i, n := range origins {
		sum.Origins = append(sum.Origins, Count{Name: n, Requests: perOrigin[i]})
	}
	sum.explain(o, time.Duration(prof.Bins)*prof.BinWidth)
	if ncells > o.MaxCells {
		workers[0].err = fmt.Errorf("the profile would need %d time × route × origin cells (at most %d): use a wider bin than %v", ncells, o.MaxCells, o.BinWidth)
	}
	return prof
}

// gcell is a worker's cell on the profile's routes and origins.
type gcell struct {
	bin int64
	ro  uint32 // route<<16 | origin
	c   *cellAgg
}

func (a gcell) cmp(b gcell) int {
	switch {
	case a.bin != b.bin:
		return cmp.Compare(a.bin, b.bin)
	default:
		return cmp.Compare(a.ro, b.ro)
	}
}

// mergeCells merges the workers' sorted lists, two by two, into one sorted
// list in which a cell's parts keep the order of the workers.
func mergeCells(lists [][]gcell) []gcell {
	if len(lists) == 0 {
		return nil
	}
	for len(lists) > 1 {
		var next [][]gcell
		for i := 0; i < len(lists); i += 2 {
			if i+1 == len(lists) {
				next = append(next, lists[i])
				continue
			}
			a, b := lists[i], lists[i+1]
			m := make([]gcell, 0, len(a)+len(b))
			for len(a) > 0 && len(b) > 0 {
				if b[0].cmp(a[0]) < 0 {
					m, b = append(m, b[0]), b[1:]
				} else {
					m, a = append(m, a[0]), a[1:]
				}
			}
			next = append(next, append(append(m, a...), b...))
		}
		lists = next
	}
	return lists[0]
}

func indexOf(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		m[n] = i
	}
	return m
}
