package traffic

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden/read.txt from the reader as it is")

// goldenOptions are the option sets every golden file is read with: the
// defaults, bad rows allowed with short lines, routes by model with an
// origin mix, wide bins from a given start, a plain mapping, routes by field
// with a catalog, and plain JSON Lines.
func goldenOptions(sel int) ReadOptions {
	o := ReadOptions{Now: testNow, Workers: 1}
	plain := Mapping{FieldTime: {Column: "timestamp"}, FieldInput: {Column: "input_tokens"}, FieldOutput: {Column: "output_tokens"}}
	switch sel % 8 {
	case 1:
		o.MaxBadFraction, o.MaxLineBytes = 1, 4096
	case 2:
		o.Routes = []Route{{Name: "chat", Models: []string{"gpt-4.1", "gpt-4o"}}, {Name: "sum", Models: []string{"claude-sonnet-4.5", "gpt-4.1-mini"}}}
		o.OriginMix = map[string]float64{"us": 0.5, "eu": 0.3, "ap": 0.2}
		o.MaxBadFraction = 1
	case 3:
		o.BinWidth, o.MaxBadFraction = 5*time.Minute, 1
		o.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	case 4:
		o.Format, o.Mapping, o.MaxBadFraction = "csv", plain, 1
	case 5:
		o.RouteBy, o.MaxBadFraction = RouteByField, 1
		o.Known = func(m string) bool { return len(m)%2 == 0 }
	case 6:
		o.Format, o.Mapping, o.MaxBadFraction = "jsonl", plain, 1
	case 7:
		o.MaxBadFraction, o.MaxLineBytes = 1, 1024
		o.OriginMix = map[string]float64{"us": 0.7, "eu": 0.3}
	}
	return o
}

// goldenCase is one input read with one option set.
type goldenCase struct {
	name string
	data []byte
	sel  int
}

// goldenCorpus is every sample in testdata with every option set, files
// generated in the shape of LiteLLM and Helicone exports (several chunks),
// and samples damaged at random: quotes, newlines, commas and CRLFs put in,
// bytes taken out, NULs, bytes that are not UTF-8, truncation. The seed is
// fixed, so the corpus is the same on every run.
func goldenCorpus(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	var base [][]byte
	files, _ := filepath.Glob("testdata/*.*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		base = append(base, b)
		for sel := range 8 {
			cases = append(cases, goldenCase{fmt.Sprintf("%s/%d", filepath.Base(p), sel), b, sel})
		}
	}
	csv, jsonl := generateCSV(6000, 7), generateJSONL(3000, 7)
	for _, sel := range []int{0, 1, 2, 5, 7} {
		cases = append(cases, goldenCase{fmt.Sprintf("litellm-6000.csv/%d", sel), csv, sel},
			goldenCase{fmt.Sprintf("helicone-3000.jsonl/%d", sel), jsonl, sel})
	}
	rng := rand.New(rand.NewPCG(42, 7))
	for i := range 600 {
		b, nearChunk := base[rng.IntN(len(base))], false
		if i%50 == 0 {
			b, nearChunk = csv, true
		}
		cases = append(cases, goldenCase{fmt.Sprintf("damaged-%d/%d", i, i%8), damage(rng, b, nearChunk), i % 8})
	}
	// The exports of testdata/logs came after the cases above were pinned:
	// they are read with every option set, and damaged by a generator of
	// their own, so that the cases before keep their inputs.
	logs, _ := filepath.Glob("testdata/logs/*.*")
	var logBase [][]byte
	for _, p := range logs {
		if filepath.Ext(p) == ".md" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		logBase = append(logBase, b)
		for sel := range 8 {
			cases = append(cases, goldenCase{fmt.Sprintf("logs/%s/%d", filepath.Base(p), sel), b, sel})
		}
	}
	rng = rand.New(rand.NewPCG(43, 7))
	for i := range 8 * len(logBase) {
		cases = append(cases, goldenCase{fmt.Sprintf("damaged-log-%d/%d", i, i%8), damage(rng, logBase[rng.IntN(len(logBase))], false), i % 8})
	}
	return cases
}

// damage returns b with one to three random faults; nearChunk puts some of
// them within 200 bytes of a 1 MiB chunk edge.
func damage(rng *rand.Rand, b []byte, nearChunk bool) []byte {
	m := bytes.Clone(b)
	insert := func(p int, s string) {
		m = slices.Insert(m, p, []byte(s)...)
	}
	for range 1 + rng.IntN(3) {
		if len(m) == 0 {
			break
		}
		p := rng.IntN(len(m) + 1)
		if nearChunk && rng.IntN(2) == 0 {
			p = min(len(m), chunkSize*(1+rng.IntN(2))+rng.IntN(400)-200)
		}
		switch rng.IntN(12) {
		case 0, 1, 2:
			insert(p, `"`)
		case 3:
			insert(p, "\n")
		case 4:
			insert(p, ",")
		case 5:
			if p < len(m) {
				m = slices.Delete(m, p, p+1)
			}
		case 6:
			insert(p, "\r\n")
		case 7:
			insert(p, `""`)
		case 8:
			insert(p, ",\"x\ny\",")
		case 9:
			insert(p, "\x00")
		case 10:
			insert(p, "\xff")
		case 11:
			m = m[:p]
		}
	}
	return m
}

// digest describes what Read made of a case: a hash of the profile, the
// summary and the error, and the counts a person reads first.
func digest(p *Profile, s Summary, err error) string {
	es := ""
	if err != nil {
		es = err.Error()
	}
	b, jerr := json.Marshal(struct {
		P *Profile
		S Summary
		E string
	}{p, s, es})
	if jerr != nil {
		return "json: " + jerr.Error()
	}
	h := sha256.Sum256(b)
	var skipped []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.RowsSkipped {
			if !yield(k) {
				return
			}
		}
	}) {
		skipped = append(skipped, fmt.Sprintf("%s:%d", k, s.RowsSkipped[k]))
	}
	if len(es) > 60 {
		es = es[:60] + "…"
	}
	return fmt.Sprintf("%s read=%d used=%d skipped=[%s] requests=%d err=%q",
		hex.EncodeToString(h[:8]), s.RowsRead, s.RowsUsed, strings.Join(skipped, " "), s.Requests, es)
}

// TestReadGolden reads the golden corpus and compares what comes out, the
// whole profile and summary, with testdata/golden/read.txt, written by the
// reader before it was made faster (go test -run TestReadGolden -update
// rewrites it). A faster reader must make the same profile of every file,
// damaged ones included; the one line that changed on purpose since is the
// refusal of a quote that never closes.
func TestReadGolden(t *testing.T) {
	t.Parallel()
	cases := goldenCorpus(t)
	var got bytes.Buffer
	for _, c := range cases {
		p, s, err := Read(context.Background(), bytes.NewReader(c.data), goldenOptions(c.sel))
		fmt.Fprintf(&got, "%s %s\n", c.name, digest(p, s, err))
	}
	path := filepath.Join("testdata", "golden", "read.txt")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestReadGolden -update writes it)", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), " ")
		want[name] = rest
	}
	n := 0
	for line := range strings.Lines(got.String()) {
		name, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if w, ok := want[name]; !ok {
			t.Errorf("%s: not in the golden file", name)
		} else if w != rest {
			if n++; n <= 20 {
				t.Errorf("%s:\n got %s\nwant %s", name, rest, w)
			}
		}
	}
	if len(want) != len(cases) {
		t.Errorf("the golden file has %d cases, the corpus %d", len(want), len(cases))
	}
	if n > 0 {
		t.Errorf("%d of %d cases differ", n, len(cases))
	}
}
