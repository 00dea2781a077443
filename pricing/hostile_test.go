package pricing

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestImportRefusesHostileInput feeds Import files built to hurt: each is
// refused whole, with a message that says why and, where the problem has a
// place, its line and column.
func TestImportRefusesHostileInput(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"gpt-4o": {"litellm_provider": "openai"}}`))
	zw.Close()
	manyKeys := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("{\n")
		for i := range n {
			fmt.Fprintf(&b, "%q: {\"litellm_provider\": \"x\"},\n", fmt.Sprint("m", i))
		}
		b.WriteString(`"last": {}}`)
		return b.Bytes()
	}
	manyModels := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("{\"data\": [\n")
		for range n {
			b.WriteString("{\"id\": \"x/y\"},\n")
		}
		b.WriteString("{\"id\": \"x/z\"}]}")
		return b.Bytes()
	}
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty", []byte(" \n"), "prices.json: the file is empty"},
		{"gzip", gz.Bytes(), "prices.json: the file is gzip-compressed"},
		{"zip", []byte("PK\x03\x04rest"), "prices.json: the file is a zip archive"},
		{"NUL byte", []byte("{\n  \"gpt-4o\": {\"litellm_provider\": \"open\x00ai\"}}"), "prices.json:2:39: a NUL byte"},
		{"latin-1 in a string", []byte("{\n\"gpt-4o\": {\"litellm_provider\": \"caf\xe9\"}}"), "prices.json:2:36: byte 0xe9 is not UTF-8"},
		{"nested 100,000 deep", []byte(strings.Repeat("[", 100_000)), "prices.json:1:10002: invalid character '[' exceeded max depth"},
		{"100 MB on one line", nil, "prices.json: file is larger than 32 MiB"},
		{"too many keys", manyKeys(maxImportEntries + 1), fmt.Sprintf("prices.json:%d:1: more than %d entries", maxImportEntries+2, maxImportEntries)},
		{"too many models", manyModels(maxImportEntries + 1), fmt.Sprintf("prices.json:%d:1: more than %d entries", maxImportEntries+2, maxImportEntries)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var in io.Reader = bytes.NewReader(tc.input)
			if tc.input == nil {
				in = io.LimitReader(endless('x'), 100<<20)
			}
			o, _, err := Import(in, "prices.json")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to start %q", err, tc.want)
			}
			if o != nil {
				t.Error("an overlay came back with the error")
			}
		})
	}
}

// endless reads as its byte repeated for ever.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// largePriceFile is a LiteLLM file of n entries that price nothing in the
// catalog, about 90 bytes each: what a hostile upload near the size limit
// looks like.
func largePriceFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i := range n {
		fmt.Fprintf(&b, "  \"bedrock/model-%07d\": {\"litellm_provider\": \"bedrock\", \"input_cost_per_token\": 1e-06},\n", i)
	}
	b.WriteString("  \"last\": {}\n}\n")
	return b.Bytes()
}

// TestImportLargeFileMemory imports a 9 MB file of 100,000 entries and
// bounds what it allocates. The bound is generous (25 times the file);
// before entries were counted as they are read, each entry's line was
// found by counting from the start of the file, which made this file take
// minutes.
func TestImportLargeFileMemory(t *testing.T) {
	if raceDetector {
		t.Skip("under the race detector, allocations are the detector's, not the importer's")
	}
	data := largePriceFile(maxImportEntries - 1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, rep, err := Import(bytes.NewReader(data), "prices.json")
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != maxImportEntries || rep.Imported != 0 {
		t.Errorf("%d entries, %d imported; want %d and 0", rep.Entries, rep.Imported, maxImportEntries)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte file: %d MiB allocated", len(data), alloc>>20)
	if limit := 25 * uint64(len(data)); alloc > limit {
		t.Errorf("allocated %d bytes for a %d-byte file, more than %d", alloc, len(data), limit)
	}
}

// BenchmarkImportLarge measures a price file of 100,000 entries; run with
// -benchmem for its allocations.
func BenchmarkImportLarge(b *testing.B) {
	data := largePriceFile(maxImportEntries - 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Import(bytes.NewReader(data), "prices.json"); err != nil {
			b.Fatal(err)
		}
	}
}
