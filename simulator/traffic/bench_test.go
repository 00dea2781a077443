package traffic

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The generators write exports in the shape of a LiteLLM SpendLogs CSV and
// a Helicone JSONL export, with the columns those exports have (data.md §3),
// a JSON metadata column and prompt text to skip, so benchmarks measure what
// users upload rather than toy rows.

var genModels = []string{"gpt-4o-2024-08-06", "gpt-4.1-mini", "claude-sonnet-4-5-20250929", "gemini-2.5-flash", "mistral-small"}
var genTags = []string{`[""chat""]`, `[""summarize""]`, `[""search"",""beta""]`, `[]`}

const genStart = 1748736000 // 2025-06-01T00:00:00Z

// writeCSV writes rows of a LiteLLM SpendLogs export (about 410 bytes each).
func writeCSV(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 1))
	bw.WriteString("request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,completionStartTime,model,model_id,model_group,custom_llm_provider,api_base,user,metadata,cache_hit,request_tags,team_id,end_user,status\n")
	var b []byte
	for i := range rows {
		ts := time.Unix(genStart+int64(i)/20, int64(i%20)*50e6).UTC()
		in, out := 200+rng.IntN(4000), 10+rng.IntN(800)
		dur := time.Duration(300+rng.IntN(5000)) * time.Millisecond
		m := genModels[rng.IntN(len(genModels))]
		status := "success"
		if rng.IntN(100) == 0 {
			status = "failure"
		}
		b = b[:0]
		b = fmt.Appendf(b, "req-%016x,acompletion,%064x,%.6f,%d,%d,%d,%s,%s,,%s,dep-%d,%s,openai,https://api.example.com/v1,user-%d,",
			rng.Uint64(), rng.Uint64(), float64(in)*2.5e-6+float64(out)*1e-5, in+out, in, out,
			ts.Format("2006-01-02 15:04:05.000+00"), ts.Add(dur).Format("2006-01-02 15:04:05.000+00"),
			m, rng.IntN(8), m, rng.IntN(5000))
		b = fmt.Appendf(b, `"{""user_api_key_alias"": ""prod-key"", ""user_api_key_team_id"": ""team-%d"", ""spend_logs_metadata"": null}",False,"%s",team-%d,,%s`+"\n",
			rng.IntN(20), genTags[rng.IntN(len(genTags))], rng.IntN(20), status)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeJSONL writes rows of a Helicone export (about 890 bytes each).
func writeJSONL(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 2))
	var b []byte
	for i := range rows {
		ts := time.Unix(genStart+int64(i)/20, int64(i%20)*50e6).UTC()
		in, out := 200+rng.IntN(4000), 10+rng.IntN(800)
		status := 200
		if rng.IntN(100) == 0 {
			status = []int{429, 500, 504}[rng.IntN(3)]
		}
		b = b[:0]
		b = fmt.Appendf(b, `{"request_id":"%016x-%016x","request_created_at":"%s","request_path":"/v1/chat/completions","request_user_id":"user-%d","model":"%s","provider":"OPENAI","target_url":"https://api.openai.com/v1/chat/completions","response_status":%d,"delay_ms":%d,"time_to_first_token":%d,"prompt_tokens":%d,"prompt_cache_read_tokens":%d,"prompt_cache_write_tokens":null,"completion_tokens":%d,"total_tokens":%d,"cost":%.6f,"country_code":"%s","request_properties":{"Helicone-Property-Feature":"chat","Helicone-Property-Env":"prod"},`,
			rng.Uint64(), rng.Uint64(), ts.Format("2006-01-02T15:04:05.000Z"), rng.IntN(5000), genModels[rng.IntN(len(genModels))],
			status, 300+rng.IntN(5000), 100+rng.IntN(500), in, rng.IntN(in/2+1), out, in+out, float64(in)*2.5e-6, []string{"US", "DE", "JP"}[rng.IntN(3)])
		b = append(b, `"request_body":{"messages":[{"role":"user","content":"Summarise the following ticket: the customer says \"the export fails\" when the file is larger than 2 GB; steps to reproduce are attached."}]},"response_body":{"choices":[{"message":{"role":"assistant","content":"The export fails above 2 GB."}}]}}`...)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func generateCSV(rows int, seed uint64) []byte {
	var b bytes.Buffer
	writeCSV(&b, rows, seed)
	return b.Bytes()
}

func generateJSONL(rows int, seed uint64) []byte {
	var b bytes.Buffer
	writeJSONL(&b, rows, seed)
	return b.Bytes()
}

// benchRead measures Read over data; MB/s comes from SetBytes.
func benchRead(b *testing.B, data []byte, o ReadOptions) {
	o.Now = testNow
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Read(context.Background(), bytes.NewReader(data), o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadCSV(b *testing.B) {
	data := generateCSV(250_000, 1) // ≈ 100 MB
	for _, w := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(w), func(b *testing.B) { benchRead(b, data, ReadOptions{Workers: w}) })
	}
}

func BenchmarkReadJSONL(b *testing.B) {
	data := generateJSONL(120_000, 1) // ≈ 105 MB
	for _, w := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(w), func(b *testing.B) { benchRead(b, data, ReadOptions{Workers: w}) })
	}
}

// BenchmarkReadFile reads a generated file from disk, as the CLI does; the
// file lives in b.TempDir and is GATEWISE_BENCH_MB megabytes (default 256).
func BenchmarkReadFile(b *testing.B) {
	mb := 256
	if s := os.Getenv("GATEWISE_BENCH_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	for _, kind := range []string{"csv", "jsonl"} {
		b.Run(kind, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "log."+kind)
			if err := generateFile(path, kind, int64(mb)<<20); err != nil {
				b.Fatal(err)
			}
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := Read(context.Background(), f, ReadOptions{Now: testNow}); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// generateFile writes about size bytes of the kind's export to path.
func generateFile(path, kind string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rowBytes := int64(410)
	write := writeCSV
	if kind == "jsonl" {
		rowBytes, write = 890, writeJSONL
	}
	if err := write(f, int(size/rowBytes), 1); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TestGenerate writes the large files for the CLI measurement in the README:
//
//	GATEWISE_GENERATE=/tmp/gw GATEWISE_GENERATE_MB=1100 go test ./simulator/traffic -run TestGenerate
//
// It does nothing unless GATEWISE_GENERATE names a directory.
func TestGenerate(t *testing.T) {
	dir := os.Getenv("GATEWISE_GENERATE")
	if dir == "" {
		t.Skip("set GATEWISE_GENERATE=DIR (and GATEWISE_GENERATE_MB) to write large sample logs")
	}
	mb, _ := strconv.Atoi(os.Getenv("GATEWISE_GENERATE_MB"))
	if mb <= 0 {
		mb = 1100
	}
	for _, kind := range []string{"csv", "jsonl"} {
		path := filepath.Join(dir, "litellm-spendlogs."+kind)
		if kind == "jsonl" {
			path = filepath.Join(dir, "helicone."+kind)
		}
		if err := generateFile(path, kind, int64(mb)<<20); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}

// azureLog repeats the Azure conversation trace (../shared/data) until it
// is about size bytes, each repeat an hour after the one before (the trace
// spans 59 minutes), as CSV in the trace's own shape or, for jsonl, as a
// Helicone export of the same requests.
func azureLog(b *testing.B, kind string, size int) []byte {
	b.Helper()
	src, err := os.ReadFile(filepath.Join(sharedData, "azure-llm-2023", "AzureLLMInferenceTrace_conv.csv"))
	if err != nil {
		b.Skipf("needs azure-llm-2023/AzureLLMInferenceTrace_conv.csv in ../shared/data: %v", err)
	}
	lines := bytes.Split(bytes.TrimSpace(src), []byte("\n"))
	out := make([]byte, 0, size+1<<20)
	if kind == "csv" {
		out = append(out, lines[0]...)
		out = append(out, '\n')
	}
	const layout = "2006-01-02 15:04:05.0000000"
	for rep := 0; len(out) < size; rep++ {
		for _, l := range lines[1:] {
			f := bytes.Split(l, []byte(","))
			t, err := time.Parse(layout, string(f[0]))
			if err != nil {
				b.Fatal(err)
			}
			t = t.Add(time.Duration(rep) * time.Hour)
			if kind == "csv" {
				out = fmt.Appendf(out, "%s,%s,%s\n", t.Format(layout), f[1], f[2])
				continue
			}
			out = fmt.Appendf(out, `{"request_id":"az-%d-%s","request_created_at":"%s","request_path":"/v1/chat/completions","model":"gpt-4o","provider":"AZURE","response_status":200,"prompt_tokens":%s,"completion_tokens":%s,"total_tokens":0,"country_code":"US"}`+"\n",
				rep, f[0][20:], t.Format("2006-01-02T15:04:05.0000000Z"), f[1], f[2])
		}
	}
	return out
}

// BenchmarkReadAzure reads 64 MB of the Azure trace as CSV and as JSONL,
// the shape of the 180 MB files the CLI is measured on (README).
func BenchmarkReadAzure(b *testing.B) {
	for _, kind := range []string{"csv", "jsonl"} {
		data := azureLog(b, kind, 64<<20)
		for _, w := range []int{1, 2} {
			b.Run(kind+"/workers="+strconv.Itoa(w), func(b *testing.B) { benchRead(b, data, ReadOptions{Workers: w}) })
		}
	}
}

func BenchmarkSynthesize(b *testing.B) {
	p := exampleParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Synthesize(context.Background(), p, 42); err != nil {
			b.Fatal(err)
		}
	}
}
