package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glebarez/sqlite"

	"gatewise/server/store"
	"gatewise/server/store/storetest"
)

// The kill tests stop a real gatewise process with SIGKILL while a run is
// going and a log is half uploaded, start it again on the same database and
// upload folder, and check that nothing saved was lost or damaged and that
// what was cut short can be picked up again.

func TestKillSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test: builds and starts the real binary; skipped with -short")
	}
	db := filepath.Join(t.TempDir(), "g.db")
	killTest(t, db, false, func(t *testing.T) { sqliteIntact(t, db) })
}

func TestKillPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test: builds and starts the real binary; skipped with -short")
	}
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run the kill test on PostgreSQL")
	}
	// PostgreSQL is a separate process the kill does not touch; what is
	// checked is that gatewise's rows read back whole, and that the run
	// cut short is taken up again once its job's lease has run out.
	killTest(t, storetest.Schema(t, base), true, func(*testing.T) {})
}

// killTest is the scenario on the database dsn; intact checks the database
// files between the kill and the restart. On a shared database (River's
// queue) the killed run is taken up again instead of interrupted.
func killTest(t *testing.T, dsn string, shared bool, intact func(t *testing.T)) {
	bin := buildGatewise(t)
	uploads := filepath.Join(t.TempDir(), "up")
	if err := os.Mkdir(uploads, 0o755); err != nil {
		t.Fatal(err)
	}
	var flags []string
	if shared {
		flags = []string{"--job-lease", "1m"} // the shortest allowed
	}
	first := startGatewise(t, bin, dsn, uploads, flags...)

	// Saved architectures, as the file download and the API give them.
	examples, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "examples", "*.yaml"))
	if len(examples) != 3 {
		t.Fatalf("testdata/examples has %d files, want the 3 examples", len(examples))
	}
	saved := map[string][2][]byte{}
	var ids []string
	byName := map[string]string{}
	for _, f := range examples {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var created struct{ ID string }
		first.json(t, "POST", "/api/v1/architectures", "application/yaml", bytes.NewReader(data), http.StatusCreated, &created)
		ids = append(ids, created.ID)
		byName[strings.TrimSuffix(filepath.Base(f), ".yaml")] = created.ID
		saved[created.ID] = [2][]byte{first.get(t, "/architectures/"+created.ID+"/download"), first.get(t, "/api/v1/architectures/"+created.ID)}
	}
	// single-provider is the quickest example per trial, so its long run
	// records progress soon.
	small, long := byName["eu-regulated"], byName["single-provider"]

	// A finished run and its memo.
	finished := first.startRun(t, small, 50)
	first.waitRun(t, finished, func(r apiRunState) bool { return r.Status == "done" })
	memo := first.get(t, "/api/v1/runs/"+finished+"/memo.md")
	result := first.get(t, "/runs/"+finished+"/result.json")
	if !bytes.Contains(memo, []byte("# Gateway decision: ")) {
		t.Fatalf("the finished run's memo:\n%.600s", memo)
	}

	// A long run, killed once it has recorded progress.
	going := first.startRun(t, long, 100_000)
	first.waitRun(t, going, func(r apiRunState) bool { return r.Status == "running" && r.Progress.Done > 0 })

	// A log arriving slowly, killed once part of it is on disk.
	sent := make(chan error, 1)
	stop := make(chan struct{})
	go func() { sent <- slowUpload(first.base, small, stop) }()
	t.Cleanup(func() { close(stop); <-sent })
	partial := waitPartialUpload(t, uploads, 64<<10)

	first.kill(t)
	intact(t)

	second := startGatewise(t, bin, dsn, uploads, flags...)
	if !shared {
		second.waitLog(t, `level=WARN msg="runs interrupted by the last stop" runs=1`)
	}
	for _, id := range ids {
		if got := second.get(t, "/architectures/"+id+"/download"); !bytes.Equal(got, saved[id][0]) {
			t.Errorf("architecture %s: the file after the kill differs:\n%s\nbefore:\n%s", id, got, saved[id][0])
		}
		if got := second.get(t, "/api/v1/architectures/"+id); !bytes.Equal(got, saved[id][1]) {
			t.Errorf("architecture %s: the API's answer after the kill differs:\n%s\nbefore:\n%s", id, got, saved[id][1])
		}
	}
	if got := second.get(t, "/api/v1/runs/"+finished+"/memo.md"); !bytes.Equal(got, memo) {
		t.Errorf("the finished run's memo changed:\n%s\nbefore:\n%s", got, memo)
	}
	if got := second.get(t, "/runs/"+finished+"/result.json"); !bytes.Equal(got, result) {
		t.Errorf("the finished run's result changed (%d bytes, was %d)", len(got), len(result))
	}
	if shared {
		// The killed worker's range is retried once its lease is out; the
		// rest were waiting in the queue.
		second.waitRun(t, going, func(r apiRunState) bool { return r.Status == "done" })
		if strings.Contains(second.stderr.String(), "interrupted") {
			t.Errorf("the second server interrupted something:\n%s", second.stderr)
		}
	} else if r := second.run(t, going); r.Status != "interrupted" || r.Error != "the server stopped while the run was going; restart it" {
		t.Errorf("the long run after the kill: %+v, want interrupted with the reason", r)
	}

	// The half-sent log left no upload; its partial file waits for the
	// start-up sweep, which removes such files once they are an hour old.
	st, err := store.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ups, err := st.ListUploads(context.Background(), small); err != nil || len(ups) != 0 {
		t.Errorf("uploads of the architecture after the kill: %v %+v, want none", err, ups)
	}
	if _, err := os.Stat(partial); err != nil {
		t.Errorf("the partial upload %s: %v", filepath.Base(partial), err)
	}

	// Restart is the run page's button, a form post; without a browser's
	// Origin header it passes the cross-site check.
	if !shared {
		res := second.do(t, "POST", "/runs/"+going+"/restart", "application/x-www-form-urlencoded", strings.NewReader(""))
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/runs/"+going {
			t.Fatalf("restart: %s to %q", res.Status, res.Header.Get("Location"))
		}
		second.waitRun(t, going, func(r apiRunState) bool { return r.Status == "running" && r.Progress.Done > 0 && r.Error == "" })
	}

	// A graceful stop records the restarted run as interrupted again; the
	// next start sweeps the partial log once it is old enough.
	second.stop(t)
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(partial, old, old); err != nil {
		t.Fatal(err)
	}
	third := startGatewise(t, bin, dsn, uploads, flags...)
	if r := third.run(t, going); !shared && r.Status != "interrupted" {
		t.Errorf("the restarted run after a graceful stop is %s, want interrupted", r.Status)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial upload survived the start-up sweep: %v", err)
	}
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Errorf("the upload folder keeps %d files", len(left))
	}
	third.kill(t)
}

// buildGatewise builds the binary under test.
func buildGatewise(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the kill test builds gatewise and needs the go command on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "gatewise")
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// gatewiseProcess is a running `gatewise serve`.
type gatewiseProcess struct {
	cmd    *exec.Cmd
	base   string
	stderr *lockedBuffer
	exited chan struct{}
}

// startGatewise serves dsn on a free loopback port with one worker and the
// extra flags, and returns once the process says where it listens.
func startGatewise(t *testing.T, bin, dsn, uploads string, extra ...string) *gatewiseProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--upload-dir", uploads, "--workers", "1"}, extra...)...)
	p := &gatewiseProcess{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "running at "); ok {
				listening <- strings.Fields(u)[0]
			}
		}
	}()
	select {
	case u := <-listening:
		// The server prints a loopback listener as localhost; the port is
		// what matters.
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatalf("start-up line gives %q: %v", u, err)
		}
		p.base = "http://127.0.0.1:" + parsed.Port()
	case <-p.exited:
		t.Fatalf("gatewise exited at start: %v\n%s", cmd.ProcessState, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("gatewise did not start within 30 s:\n%s", p.stderr)
	}
	return p
}

// kill sends SIGKILL and waits for the process to die of it.
func (p *gatewiseProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("gatewise ended with %v, want killed by SIGKILL", p.cmd.ProcessState)
	}
}

// waitLog waits for a line in the process's log. Standard error is copied
// apart from standard output, so a line written before the start-up message
// may arrive after it.
func (p *gatewiseProcess) waitLog(t *testing.T, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %s:\n%s", line, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGINT, as Ctrl-C does, and expects a clean exit.
func (p *gatewiseProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("gatewise did not stop within 30 s of SIGINT:\n%s", p.stderr)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("gatewise exited with %d after SIGINT:\n%s", code, p.stderr)
	}
}

// noRedirects leaves redirects to the test, which checks where they point.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (p *gatewiseProcess) do(t *testing.T, method, path, ctype string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, p.stderr)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// get returns the body of a 200 answer.
func (p *gatewiseProcess) get(t *testing.T, path string) []byte {
	t.Helper()
	res := p.do(t, "GET", path, "", nil)
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%.600s", path, res.Status, err, data)
	}
	return data
}

// json sends a request, checks the status and decodes the answer into v.
func (p *gatewiseProcess) json(t *testing.T, method, path, ctype string, body io.Reader, status int, v any) {
	t.Helper()
	res := p.do(t, method, path, ctype, body)
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != status {
		t.Fatalf("%s %s: %s, want %d: %v\n%.600s", method, path, res.Status, status, err, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s %s: %v\n%.600s", method, path, err, data)
	}
}

// apiRunState is what the test reads of GET /api/v1/runs/{id}.
type apiRunState struct {
	ID       string
	Status   string
	Error    string
	Progress struct{ Done, Total int }
}

func (p *gatewiseProcess) startRun(t *testing.T, arch string, trials int) string {
	t.Helper()
	var r apiRunState
	body := fmt.Sprintf(`{"architecture_id": %q, "trials": %d}`, arch, trials)
	p.json(t, "POST", "/api/v1/runs", "application/json", strings.NewReader(body), http.StatusAccepted, &r)
	return r.ID
}

func (p *gatewiseProcess) run(t *testing.T, id string) apiRunState {
	t.Helper()
	var r apiRunState
	p.json(t, "GET", "/api/v1/runs/"+id, "", nil, http.StatusOK, &r)
	return r
}

// waitRun polls a run until ok holds; the bound is a deadline for a
// background job, not a measurement.
func (p *gatewiseProcess) waitRun(t *testing.T, id string, ok func(apiRunState) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := p.run(t, id)
		if ok(r) {
			return
		}
		if time.Now().After(deadline) || r.Status == "failed" {
			t.Fatalf("run %s is %+v\n%s", id, r, p.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// slowUpload sends a LiteLLM SpendLogs export to the API a chunk at a time
// until stop closes or the server goes away; it never finishes the body.
func slowUpload(base, arch string, stop <-chan struct{}) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("architecture_id", arch); err != nil {
				return err
			}
			fw, err := mw.CreateFormFile("file", "spendlogs.csv")
			if err != nil {
				return err
			}
			if _, err := io.WriteString(fw, "request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,custom_llm_provider,metadata,cache_hit,request_tags,status\n"); err != nil {
				return err
			}
			for i := 0; ; i++ {
				var chunk strings.Builder
				for j := range 200 {
					n := i*200 + j
					fmt.Fprintf(&chunk, "req-%d,acompletion,hk1,0.0004,1020,900,120,2026-11-02 09:%02d:%02d.000+00,2026-11-02 09:%02d:%02d.500+00,gpt-4.1-mini-2025-04-14,gpt-4.1-mini,openai,{},False,\"[\"\"chat\"\"]\",success\n",
						n, n/60%60, n%60, n/60%60, n%60)
				}
				if _, err := io.WriteString(fw, chunk.String()); err != nil {
					return err
				}
				select {
				case <-stop:
					return errors.New("the test is over")
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest("POST", base+"/api/v1/uploads", pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		return err
	}
	res.Body.Close()
	return fmt.Errorf("the upload finished with %s", res.Status)
}

// waitPartialUpload waits until a log being received has at least min bytes
// on disk, and returns its path.
func waitPartialUpload(t *testing.T, dir string, min int64) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "gatewise-upload-*"))
		for _, f := range files {
			if info, err := os.Stat(f); err == nil && info.Size() >= min {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no upload of %d bytes arrived in %s within 30 s: %v", min, dir, files)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqliteIntact opens the file the way the store does and runs SQLite's own
// checks: the pages and indexes, and every foreign key.
func sqliteIntact(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open(sqlite.DriverName, path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v; want ok", check, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid, fk sql.NullInt64
		rows.Scan(&table, &rowid, &parent, &fk)
		t.Errorf("foreign key broken: %s row %v points to a missing %s", table, rowid.Int64, parent)
	}
}

// lockedBuffer collects a process's standard error while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
