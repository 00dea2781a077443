package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, env(nil), strings.NewReader(""), &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckValidExamples(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"multi-region", "single-provider", "eu-regulated"} {
		path := filepath.Join("..", "..", "testdata", "examples", name+".yaml")
		out, errOut, code := runCmd(t, "check", "-f", path)
		if code != 0 {
			t.Errorf("%s: exit %d, want 0\n%s%s", name, code, out, errOut)
		}
		if !strings.Contains(out, ": ok: ") {
			t.Errorf("%s: output %q", name, out)
		}
	}
}

func TestCheckReportsEveryProblemWithPosition(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "bad.yaml", `name: bad
providers:
  - id: openai
    regions: [us]
routes:
  - name: chat
    share: 0.5
    models: [gpt-4.1]
    input_tokens: 100
    output_tokens: 10
  - name: other
    share: 0.4
    modles: [gpt-4.1]
    input_tokens: -1
    output_tokens: 10
traffic:
  requests_per_day: 100
  origin: {us: 1}
team: {engineers: 1, ops_hourly_usd: 100}
`)
	out, _, code := runCmd(t, "check", "-f", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	want := file + ":13:5: routes[1].modles: unknown key"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "problem") {
		t.Errorf("no summary line:\n%s", out)
	}

	// Once the key is fixed, the value problems come out, each with its line.
	fixed := writeFile(t, "bad2.yaml", strings.Replace(mustRead(t, file), "modles", "models", 1))
	out, _, code = runCmd(t, "check", fixed)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, w := range []string{"routes[1].input_tokens", "routes: "} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if !regexp.MustCompile(`bad2\.yaml:14:\d+: routes\[1\]\.input_tokens`).MatchString(out) {
		t.Errorf("input_tokens problem without its line:\n%s", out)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckJSONSyntaxError(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "bad.json", "{\n  \"name\": \"x\",\n  \"routes\": [,]\n}\n")
	out, _, code := runCmd(t, "check", "-f", file)
	if code != 1 || !strings.Contains(out, file+":3:") {
		t.Errorf("exit %d, output %q; want exit 1 with line 3", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"check"}, 2, "check needs one file"},
		{[]string{"check", "-f", filepath.Join(t.TempDir(), "missing.yaml")}, 1, "no such file"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--log-level", "loud"}, 2, "-log-level"},
		{[]string{"serve", "--max-body", "lots"}, 2, "-max-body"},
		{[]string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"serve", "extra"}, 2, "serve takes no arguments"},
		{[]string{"serve", "--db", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), "--addr", "127.0.0.1:0"}, 1, "does not exist"},
	}
	for _, c := range cases {
		out, errOut, code := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.msg) {
			t.Errorf("%v: exit %d, output %q %q; want exit %d mentioning %q", c.args, code, out, errOut, c.code, c.msg)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, code := runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(out, "gatewise ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// lineWriter lets the test wait for the line serve prints once it listens.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen chan struct{}
	once sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), []byte("\n")) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// serve starts from the environment, answers, and stops cleanly when its
// context ends (what Ctrl-C does), closing the database.
func TestServeStartsAnswersAndShutsDown(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "serve.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lineWriter{seen: make(chan struct{})}
	var errb bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"GATEWISE_ADDR": "127.0.0.1:0", "GATEWISE_DB": db, "GATEWISE_LOG_LEVEL": "warn"}), strings.NewReader(""), out, &errb)
	}()
	select {
	case <-out.seen:
	case err := <-done:
		t.Fatalf("serve stopped early: %v\n%s", err, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not print its URL")
	}
	m := regexp.MustCompile(`running at (http://\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no URL in %q", out.String())
	}
	resp, err := http.Get(m[1] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]string
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health["database"] != "sqlite" || health["status"] != "ok" {
		t.Errorf("healthz: %d %v", resp.StatusCode, health)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if _, err := http.Get(m[1] + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestSimulateExampleTableAndJSON(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "result.json")
	stdout, stderr, code := runCmd(t, "simulate", "-f", filepath.Join("..", "..", "testdata", "examples", "multi-region.yaml"),
		"--trials", "50", "--scenario", "baseline", "--scenario", "provider-outage", "--json", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, w := range []string{"baseline\n", "provider-outage\n", "direct", "litellm", "kong", "Assumptions:"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("table lacks %q:\n%s", w, stdout)
		}
	}
	var res struct {
		Seed        uint64 `json:"seed"`
		Trials      int    `json:"trials"`
		CatalogAsOf string `json:"catalog_as_of"`
		Results     []struct {
			Gateway     string `json:"gateway"`
			Scenario    string `json:"scenario"`
			SuccessRate struct {
				Mean float64    `json:"mean"`
				CI95 [2]float64 `json:"ci95"`
			} `json:"success_rate"`
			CostUSD struct {
				Total struct {
					P50 float64 `json:"p50"`
				} `json:"total"`
				Tokens float64 `json:"tokens"`
			} `json:"cost_usd"`
			Excluded *string `json:"excluded"`
		} `json:"results"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	// 7 gateways × 2 scenarios, the file's seed, the trials asked for.
	if res.Seed != 42 || res.Trials != 50 || len(res.Results) != 14 || res.CatalogAsOf == "" {
		t.Errorf("seed %d, trials %d, %d results, catalog %q", res.Seed, res.Trials, len(res.Results), res.CatalogAsOf)
	}
	for _, r := range res.Results {
		if r.Excluded != nil {
			continue
		}
		if r.SuccessRate.Mean <= 0.9 || r.SuccessRate.Mean > 1 || r.SuccessRate.CI95[0] > r.SuccessRate.Mean || r.CostUSD.Tokens <= 0 {
			t.Errorf("%s/%s: %+v", r.Gateway, r.Scenario, r)
		}
	}
}

func TestSimulateBadInput(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.yaml", "name: x\nroutes: [}\n")
	if _, _, code := runCmd(t, "simulate", "-f", bad); code != 1 {
		t.Errorf("a broken file: exit %d, want 1", code)
	}
	if _, _, code := runCmd(t, "simulate"); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
	ex := filepath.Join("..", "..", "testdata", "examples", "single-provider.yaml")
	if _, stderr, code := runCmd(t, "simulate", "-f", ex, "--trials", "-3"); code != 1 || !strings.Contains(stderr, "trials must be between") {
		t.Errorf("negative trials: exit %d, %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "simulate", "-f", ex, "--logs", filepath.Join(t.TempDir(), "none.csv")); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing log: exit %d, %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "simulate", "-f", ex, "--scenario", "meteor"); code != 2 || !strings.Contains(stderr, `--scenario: "meteor" is not a scenario: use one of baseline, provider-outage, region-outage`) {
		t.Errorf("unknown scenario: exit %d, %s", code, stderr)
	}
}

// --scenario runs a scenario with the file's parameters: the eu-regulated
// example's region outage is Azure's swedencentral for 6 h, not the
// default us-east-1.
func TestSimulateScenarioKeepsTheFilesParameters(t *testing.T) {
	t.Parallel()
	ex := filepath.Join("..", "..", "testdata", "examples", "eu-regulated.yaml")
	memo := filepath.Join(t.TempDir(), "memo.md")
	_, stderr, code := runCmd(t, "simulate", "-f", ex, "--trials", "20", "--scenario", "region-outage", "--scenario", "baseline", "--memo", memo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := mustRead(t, memo); !strings.Contains(got, `never weighted as monthly (region-outage (azure-openai, swedencentral, 6 h))`) {
		t.Errorf("the memo's scenarios:\n%s", got)
	}
}

func TestSimulateWritesMemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	md, page := filepath.Join(dir, "memo.md"), filepath.Join(dir, "memo.html")
	_, stderr, code := runCmd(t, "simulate", "-f", filepath.Join("..", "..", "testdata", "examples", "single-provider.yaml"),
		"--trials", "100", "--memo", md, "--memo-html", page)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	text := mustRead(t, md)
	for _, w := range []string{"status: proposed", "**Chosen: direct**", "You don't need a gateway yet", "**Revisit if**", "**Rollout.**"} {
		if !strings.Contains(text, w) {
			t.Errorf("memo lacks %q", w)
		}
	}
	html := mustRead(t, page)
	if !strings.Contains(html, "<h1") || strings.Contains(html, "status: proposed") {
		t.Errorf("the HTML page should render the memo without its front matter")
	}
}

func TestHashPasswordAndUsersFile(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"hash-password"}, env(nil), strings.NewReader("correct horse battery\n"), &out, &errb)
	hash := strings.TrimSpace(out.String())
	if err != nil || bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery")) != nil {
		t.Fatalf("hash-password = %q, %v", hash, err)
	}
	out.Reset()
	err = run(context.Background(), []string{"hash-password"}, env(nil), strings.NewReader("short\n"), &out, &errb)
	if code := exitCode(err, &errb); code != 1 || !strings.Contains(errb.String(), "shorter than 8") {
		t.Errorf("a short password: exit %d, %q", code, errb.String())
	}

	// serve refuses a users file it cannot use, naming the line.
	users := writeFile(t, "users.txt", "alice:"+hash+"\nbob:not-a-hash\n")
	_, stderr, code := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "g.db"), "--users", users)
	if code != 2 || !strings.Contains(stderr, "users.txt:2: the hash of \"bob\" is not a bcrypt hash") {
		t.Errorf("bad users file: exit %d, %q", code, stderr)
	}
	_, stderr, code = runCmd(t, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "g.db"), "--auth-token", "short")
	if code != 2 || !strings.Contains(stderr, "at least 16 characters") {
		t.Errorf("short token: exit %d, %q", code, stderr)
	}
}

// Without sign-in gatewise is a one-person tool; bound beyond loopback it
// says so in its log, and with a users file it does not need to.
func TestServeWarnsWhenOpenBeyondLoopback(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := writeFile(t, "users.txt", "alice:"+string(hash)+"\n")
	for _, c := range []struct {
		addr, users string
		warns       bool
	}{
		{"0.0.0.0:0", "", true},
		{"127.0.0.1:0", "", false},
		{"0.0.0.0:0", users, false},
	} {
		logs := serveLogs(t, map[string]string{"GATEWISE_ADDR": c.addr, "GATEWISE_DB": filepath.Join(t.TempDir(), "g.db"),
			"GATEWISE_LOG_LEVEL": "warn", "GATEWISE_USERS": c.users})
		if warned := strings.Contains(logs, "gatewise is open to anyone who can reach "+c.addr); warned != c.warns {
			t.Errorf("%+v: warned %v, want %v; log:\n%s", c, warned, c.warns, logs)
		}
	}
}

// serveLogs starts gatewise serve with the given environment, stops it once
// it is serving, and returns what it logged.
func serveLogs(t *testing.T, environ map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lineWriter{seen: make(chan struct{})}
	logs := &lineWriter{seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env(environ), strings.NewReader(""), out, logs) }()
	select {
	case <-out.seen:
	case err := <-done:
		t.Fatalf("serve stopped early: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not print its URL")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v", err)
	}
	return logs.String()
}
