//go:build unix

package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gatewise/memo"
	"gatewise/pricing"
	"gatewise/simulator"
)

// portkeyArch is the architecture under test: one route, GPT-4.1 on OpenAI
// then Claude Sonnet 4.5 on Anthropic, through Portkey, tuned down (2
// retries, 2 s per try) so every fault ends in seconds.
const portkeyArch = `name: Portkey conformance
horizon_days: 30
providers:
  - id: openai
    regions: [us]
  - id: anthropic
    regions: [us]
routes:
  - name: chat
    share: 1
    models: [gpt-4.1, claude-sonnet-4.5]
    input_tokens: 1000
    output_tokens: 200
traffic:
  requests_per_day: 1000
  origin: {us: 1}
compliance:
  soc2: false
  hipaa: false
  zero_data_retention: false
  no_third_party_in_path: false
priorities: {failover: 0.5, cost: 0.3, observability: 0.2}
team: {engineers: 2, ops_hourly_usd: 90}
gateways: [portkey]
scenarios: [baseline]
simulation: {trials: 100, seed: 1}
gateway_settings:
  portkey: {num_retries: 2, timeout_seconds: 2}
`

// portkeyStart is the gateway's entry point inside the pinned install.
const portkeyStart = "node_modules/@portkey-ai/gateway/build/start-server.js"

// wallTolerance is how far a measured time may be from the plan's.
const wallTolerance = 0.6

// portkeyFault is one way the first target fails. The mock picks it by the
// first segment of the target's custom_host path.
type portkeyFault struct {
	name string
	// cond is the plan condition the fault is ("" for ok and a stream cut
	// after its first tokens).
	cond string
	// status is what the gateway makes of the fault at that target (0: no
	// status of its own).
	status int
	// hang: the target never answers, so each try lasts the plan's timeout.
	hang bool
	// stream: the request streams and the target cuts the stream.
	stream bool
	// unseen: nothing listens, so the mock sees no tries.
	unseen bool
}

var portkeyFaults = []portkeyFault{
	{name: "ok"},
	{name: "s503", cond: simulator.On5xx, status: 503},
	{name: "s429ra", cond: simulator.On429, status: 429},
	{name: "s529", cond: simulator.On529, status: 529},
	{name: "hang", cond: simulator.OnTimeout, status: 408, hang: true},
	{name: "refused", cond: simulator.OnConnection, unseen: true},
	{name: "reset", cond: simulator.OnConnection},
	{name: "streambreak", stream: true},
}

// hit is one request a mock provider received.
type hit struct {
	at    time.Time
	path  string
	auth  string
	model string
}

// hits records what the mock providers received, by fault segment.
type hits struct {
	mu sync.Mutex
	by map[string][]hit
}

func (h *hits) add(seg string, x hit) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.by == nil {
		h.by = map[string][]hit{}
	}
	h.by[seg] = append(h.by[seg], x)
}

func (h *hits) get(seg string) []hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.by[seg])
}

func (h *hits) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.by = nil
}

// syncBuffer collects the gateway's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPortkeyGatewayRunsThePlan runs the Portkey config gatewise ships
// through Portkey's open-source gateway (the pinned npm install in
// conformance/portkey) against mock providers, breaking the first target
// in each way the plan names, and checks the tries, the fallback, the
// answer and the time against what the plan says.
func TestPortkeyGatewayRunsThePlan(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Portkey gateway for about 20 s; skipped in -short mode")
	}
	const notInstalled = "the Portkey gateway is not installed: run `npm ci --prefix conformance/portkey` (bash .ci/run does)"
	dir, err := filepath.Abs("portkey")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, portkeyStart)); err != nil {
		t.Skip(notInstalled)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip(notInstalled + " (node is not on PATH)")
	}

	// The plan and the config gatewise ships for it.
	cat := pricing.Default()
	spec, err := simulator.Load([]byte(portkeyArch), cat)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := spec.PlanFor(cat, "portkey")
	if err != nil {
		t.Fatal(err)
	}
	rp, ok := plan.For("chat", "us")
	if !ok || len(rp.Targets) < 2 {
		t.Fatalf("plan for route chat has targets %+v; want at least 2", rp.Targets)
	}
	bundle, err := memo.Rollout(spec, plan, cat)
	if err != nil {
		t.Fatal(err)
	}
	shipped, ok := bundle.File("portkey/chat.json")
	if !ok {
		t.Fatal("the bundle has no portkey/chat.json")
	}
	t.Logf("plan: retries %d on %v, backoff %v s, fail over on %v, timeout %g s per try; targets %s/%s, %s/%s",
		plan.Retries, plan.RetryOn, plan.BackoffSeconds, plan.FailOverOn, plan.TimeoutSeconds,
		rp.Targets[0].Provider, rp.Targets[0].ProviderModel, rp.Targets[1].Provider, rp.Targets[1].ProviderModel)

	// Mock providers.
	var rec hits
	mock := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(body, &req)
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		auth := r.Header.Get("Authorization")
		if auth == "" {
			auth = r.Header.Get("X-Api-Key")
		}
		rec.add(seg, hit{at: time.Now(), path: r.URL.Path, auth: auth, model: req.Model})
		mockProvider(w, r, seg)
	}))
	t.Cleanup(mock.Close)
	mockHost := mock.Listener.Addr().String()

	refusedHost := unusedAddr(t)

	// reset accepts a connection and resets it before any answer.
	resetLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resetLn.Close() })
	go func() {
		for {
			c, err := resetLn.Accept()
			if err != nil {
				return
			}
			rec.add("reset", hit{at: time.Now(), path: "(connection)"})
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
		}
	}()

	// The gateway.
	gw := startPortkey(t, node, dir)
	client := &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

	for _, f := range portkeyFaults {
		t.Run(f.name, func(t *testing.T) {
			rec.reset()
			host := mockHost
			switch f.name {
			case "refused":
				host = refusedHost
			case "reset":
				host = resetLn.Addr().String()
			}
			hosts := []string{"http://" + host + "/" + f.name + "/v1"}
			for range rp.Targets[1:] {
				hosts = append(hosts, "http://"+mockHost+"/ok/v1")
			}
			cfg := pointAtMocks(t, shipped, hosts)

			want := predict(plan, f)
			res := callPortkey(t, client, gw, cfg, f.stream)

			first, second := rec.get(f.name), rec.get("ok")
			if f.name == "ok" {
				// Both targets are the ok mock: tell them apart by path.
				first, second = splitByPath(second, "/chat/completions")
			}
			tries1 := len(first)
			triesNote := ""
			if f.unseen {
				tries1 = triesFromWall(plan, res.wall)
				triesNote = " (inferred from the wall time: nothing listens)"
			}
			t.Logf("measured: first target %d tries%s at %s; second target %d tries; status %d from %q (retry-attempt-count %q); wall %.2f s; body %d bytes",
				tries1, triesNote, offsets(first, res.start), len(second), res.status, res.index, res.retryCount, res.wall, len(res.body))
			t.Logf("plan:     first target %d tries at %s; second target %d tries; status %d; wall %.2f s",
				want.tries, fmtSeconds(want.offsets), boolInt(want.fallback), want.status, want.wall)
			if f.stream {
				t.Logf("stream as the client got it: %q", truncate(res.body, 400))
			}
			defer func() {
				if t.Failed() {
					t.Logf("response body: %s", truncate(res.body, 600))
				}
			}()

			if res.err != nil && !(f.stream && errors.Is(res.err, io.ErrUnexpectedEOF)) {
				t.Fatalf("request through the gateway: %v", res.err)
			}
			if res.status == http.StatusBadRequest && strings.Contains(res.body, "Invalid config passed") {
				t.Fatalf("the gateway rejects the shipped config: %s", res.body)
			}

			// What reached each target.
			for _, h := range first {
				if f.name == "reset" {
					break
				}
				if h.auth != "Bearer "+dummyKey(0) || h.model != rp.Targets[0].ProviderModel || !strings.HasSuffix(h.path, "/v1/chat/completions") {
					t.Errorf("first target got %s auth %q model %q; want /<fault>/v1/chat/completions, auth Bearer %s, model %s",
						h.path, h.auth, h.model, dummyKey(0), rp.Targets[0].ProviderModel)
				}
			}
			for _, h := range second {
				if h.auth != dummyKey(1) || h.model != rp.Targets[1].ProviderModel || h.path != "/ok/v1/messages" {
					t.Errorf("second target got %s auth %q model %q; want /ok/v1/messages, x-api-key %s, model %s",
						h.path, h.auth, h.model, dummyKey(1), rp.Targets[1].ProviderModel)
				}
			}

			// Tries on the first target.
			if f.unseen {
				if tries1 != want.tries {
					t.Errorf("%s at the first target: the gateway's %.2f s fit %d tries (backoffs %v s); the plan says %d (retries %d on %v)",
						f.name, res.wall, tries1, plan.BackoffSeconds, want.tries, plan.Retries, plan.RetryOn)
				}
			} else if tries1 != want.tries {
				t.Errorf("%s at the first target: the gateway tried it %d times; the plan says %d (retries %d on %v)",
					f.name, tries1, want.tries, plan.Retries, plan.RetryOn)
			} else {
				for i := 1; i < len(first); i++ {
					gap := first[i].at.Sub(first[i-1].at).Seconds()
					if w := want.offsets[i] - want.offsets[i-1]; math.Abs(gap-w) > wallTolerance {
						t.Errorf("%s: try %d came %.2f s after try %d; the plan says %.2f s", f.name, i+1, gap, i, w)
					}
				}
			}

			// Fallback.
			fellBack := len(second) > 0
			if fellBack != want.fallback {
				t.Errorf("%s at the first target: the gateway %s; the plan says it %s (fail over on %v)",
					f.name, didFallback(fellBack, len(second)), willFallback(want.fallback), plan.FailOverOn)
			}

			// The answer.
			wantIndex := "config.targets[0]"
			if want.fallback {
				wantIndex = "config.targets[1]"
			}
			if want.status != 0 && res.status != want.status {
				t.Errorf("%s: the client got status %d; the plan says %d", f.name, res.status, want.status)
			}
			if want.status == 0 && res.status == http.StatusOK {
				t.Errorf("%s: the client got 200; the plan says the failure goes back to the client", f.name)
			}
			if res.index != wantIndex {
				t.Errorf("%s: answered by %q; the plan says %q", f.name, res.index, wantIndex)
			}
			if f.stream {
				if !strings.Contains(res.body, "tok0") || strings.Contains(res.body, "[DONE]") {
					t.Errorf("%s: want a truncated stream (the first chunks, no [DONE]); got %q", f.name, truncate(res.body, 600))
				}
			}

			// Time.
			if math.Abs(res.wall-want.wall) > wallTolerance {
				t.Errorf("%s: the request took %.2f s; the plan says %.2f s (±%.1f)", f.name, res.wall, want.wall, wallTolerance)
			}
		})
	}
	if t.Failed() {
		t.Logf("gateway output:\n%s", truncate(gw.log.String(), 4000))
	}
}

// prediction is what the plan says one request does when the first target
// has a fault and the others are healthy.
type prediction struct {
	tries    int       // tries on the first target
	offsets  []float64 // when each try starts, from the first
	fallback bool      // the second target is tried (and answers)
	status   int       // what the client gets; 0: the plan names no status
	wall     float64   // seconds until the client has its answer
}

// predict reads a fault's outcome off the plan's fields. A stream that
// breaks after its first tokens has no condition: the engine treats such a
// break as final for every option (simulator/data/gateway_behaviour.yaml),
// so the client keeps the first target's 200.
func predict(p simulator.Plan, f portkeyFault) prediction {
	if f.cond == "" {
		return prediction{tries: 1, offsets: []float64{0}, status: http.StatusOK}
	}
	out := prediction{tries: 1}
	if slices.Contains(p.RetryOn, f.cond) {
		out.tries += p.Retries
	}
	out.fallback = slices.Contains(p.FailOverOn, f.cond)
	perTry := 0.0
	if f.hang {
		perTry = p.TimeoutSeconds
	}
	at := 0.0
	for k := range out.tries {
		if k > 0 {
			at += backoff(p, k-1)
		}
		out.offsets = append(out.offsets, at)
		at += perTry
	}
	out.wall = at
	switch {
	case out.fallback:
		out.status = http.StatusOK
	default:
		out.status = f.status
	}
	return out
}

// backoff is the plan's wait before retry k+1 (the last wait repeats).
func backoff(p simulator.Plan, k int) float64 {
	if len(p.BackoffSeconds) == 0 {
		return 0
	}
	return p.BackoffSeconds[min(k, len(p.BackoffSeconds)-1)]
}

// triesFromWall is the number of tries whose backoffs best fill a time.
func triesFromWall(p simulator.Plan, wall float64) int {
	best, bestDiff, sum := 1, math.Abs(wall), 0.0
	for k := range 10 {
		sum += backoff(p, k)
		if d := math.Abs(wall - sum); d < bestDiff {
			best, bestDiff = k+2, d
		}
	}
	return best
}

// mockProvider answers as OpenAI or Anthropic would, broken as seg says.
func mockProvider(w http.ResponseWriter, r *http.Request, seg string) {
	jsonReply := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	switch seg {
	case "ok":
		if strings.HasSuffix(r.URL.Path, "/messages") {
			jsonReply(200, `{"id":"msg_mock","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",`+
				`"content":[{"type":"text","text":"hello from mock"}],"stop_reason":"end_turn","stop_sequence":null,`+
				`"usage":{"input_tokens":1,"output_tokens":3}}`)
			return
		}
		jsonReply(200, `{"id":"chatcmpl-mock","object":"chat.completion","created":1,"model":"gpt-4.1",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"hello from mock"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}`)
	case "s503":
		jsonReply(503, `{"error":{"message":"mock 503","type":"server_error"}}`)
	case "s429ra":
		w.Header().Set("Retry-After", "1")
		jsonReply(429, `{"error":{"message":"mock 429","type":"rate_limit"}}`)
	case "s529":
		jsonReply(529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	case "hang":
		<-r.Context().Done()
	case "streambreak":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		rc := http.NewResponseController(w)
		for i := range 2 {
			fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4.1\","+
				"\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d\"},\"finish_reason\":null}]}\n\n", i)
			_ = rc.Flush()
			time.Sleep(100 * time.Millisecond)
		}
		if c, _, err := rc.Hijack(); err == nil {
			c.Close()
		}
	default:
		jsonReply(404, `{"error":"unknown fault"}`)
	}
}

// dummyKey is the stand-in key of target i.
func dummyKey(i int) string { return fmt.Sprintf("dummy-key-%d", i) }

// pointAtMocks changes only credentials and hosts in a shipped config:
// every ${VAR} api_key becomes a dummy key and target i's custom_host
// becomes hosts[i]. Strategy, retry and timeout stay as shipped.
func pointAtMocks(t *testing.T, shipped []byte, hosts []string) string {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(shipped, &cfg); err != nil {
		t.Fatalf("shipped config: %v", err)
	}
	targets, _ := cfg["targets"].([]any)
	if len(targets) != len(hosts) {
		t.Fatalf("shipped config has %d targets; the plan has %d", len(targets), len(hosts))
	}
	for i, x := range targets {
		tg := x.(map[string]any)
		if k, _ := tg["api_key"].(string); !strings.HasPrefix(k, "${") {
			t.Fatalf("target %d api_key %q is not a ${VAR}", i, k)
		}
		tg["api_key"] = dummyKey(i)
		tg["custom_host"] = hosts[i]
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// portkeyGateway is a running gateway.
type portkeyGateway struct {
	url string
	log *syncBuffer
}

// startPortkey runs the gateway on a free port until the test ends.
func startPortkey(t *testing.T, node, dir string) portkeyGateway {
	t.Helper()
	port := freePort(t)
	log := &syncBuffer{}
	cmd := exec.Command(node, filepath.Join(dir, portkeyStart), fmt.Sprintf("--port=%d", port), "--headless")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Portkey gateway: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	gw := portkeyGateway{url: fmt.Sprintf("http://127.0.0.1:%d", port), log: log}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("the Portkey gateway exited (%v):\n%s", err, log.String())
		default:
		}
		if resp, err := client.Get(gw.url + "/"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), "AI Gateway says hey!") {
				return gw
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Portkey gateway did not answer GET / within 20 s:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// portkeyResult is the client's view of one request.
type portkeyResult struct {
	start      time.Time
	wall       float64
	status     int
	index      string
	retryCount string
	body       string
	err        error
}

// callPortkey sends one chat completion through the gateway with a config.
func callPortkey(t *testing.T, client *http.Client, gw portkeyGateway, cfg string, stream bool) portkeyResult {
	t.Helper()
	body := `{"model":"gpt-4.1","max_tokens":16,"messages":[{"role":"user","content":"hi"}]`
	if stream {
		body += `,"stream":true`
	}
	body += "}"
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, gw.url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-portkey-config", cfg)
	res := portkeyResult{start: time.Now()}
	resp, err := client.Do(req)
	if err != nil {
		res.err = err
		res.wall = time.Since(res.start).Seconds()
		return res
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	res.wall = time.Since(res.start).Seconds()
	if err != nil {
		res.err = fmt.Errorf("read the answer: %w", err)
	}
	res.status, res.body = resp.StatusCode, string(b)
	res.index = resp.Header.Get("x-portkey-last-used-option-index")
	res.retryCount = resp.Header.Get("x-portkey-retry-attempt-count")
	return res
}

// splitByPath splits hits into those whose path ends in suffix and the rest.
func splitByPath(hs []hit, suffix string) (with, without []hit) {
	for _, h := range hs {
		if strings.HasSuffix(h.path, suffix) {
			with = append(with, h)
		} else {
			without = append(without, h)
		}
	}
	return with, without
}

// freePort is a TCP port nothing listens on, on any interface (the gateway
// binds them all).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// unusedAddr is a loopback address nothing listens on.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func offsets(hs []hit, start time.Time) string {
	var s []float64
	for _, h := range hs {
		s = append(s, h.at.Sub(start).Seconds())
	}
	return fmtSeconds(s)
}

func fmtSeconds(s []float64) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return "[" + strings.Join(parts, " ") + "] s"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func didFallback(b bool, n int) string {
	if b {
		return fmt.Sprintf("fell back to the second target (%d tries)", n)
	}
	return "did not fall back"
}

func willFallback(b bool) string {
	if b {
		return "falls back"
	}
	return "does not fall back"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
