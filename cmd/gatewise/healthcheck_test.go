package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"gatewise/server/store/storetest"
)

// healthcheck exits 0 when /healthz answers 200, 1 when it answers
// anything else or nothing, and finds the server GATEWISE_ADDR names.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			w.Write([]byte(`{"status":"ok"}`))
		} else {
			w.Write([]byte(`{"status":"unavailable"}`))
		}
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	check := func(environ map[string]string, args ...string) (string, int) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"healthcheck"}, args...), env(environ), strings.NewReader(""), &out, &errb)
		code := exitCode(err, &errb)
		return out.String() + errb.String(), code
	}
	if out, code := check(map[string]string{"GATEWISE_ADDR": "0.0.0.0:" + port}); code != 0 || out != "http://localhost:"+port+"/healthz: ok\n" {
		t.Errorf("healthy, from GATEWISE_ADDR: exit %d, %q", code, out)
	}
	if out, code := check(nil, "--url", srv.URL+"/healthz"); code != 0 || !strings.HasSuffix(out, ": ok\n") {
		t.Errorf("healthy, by URL: exit %d, %q", code, out)
	}
	status = http.StatusServiceUnavailable
	if out, code := check(nil, "--url", srv.URL+"/healthz"); code != 1 || !strings.Contains(out, "answered 503 unavailable") {
		t.Errorf("unhealthy: exit %d, %q", code, out)
	}
	srv.Close()
	if out, code := check(nil, "--url", srv.URL+"/healthz"); code != 1 || !strings.Contains(out, "connection refused") {
		t.Errorf("nothing listening: exit %d, %q", code, out)
	}
	if _, code := check(nil, "extra"); code != 2 {
		t.Errorf("an argument: exit %d, want 2", code)
	}
}

func TestLocalAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{":8080": "localhost:8080", "0.0.0.0:8080": "localhost:8080", "[::]:8080": "localhost:8080",
		"127.0.0.1:9000": "127.0.0.1:9000", "gatewise:8080": "gatewise:8080"} {
		if got := localAddr(in); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// The metrics token is checked like the API token, and may not be it.
func TestMetricsTokenSettings(t *testing.T) {
	t.Parallel()
	s, msg, err := readServe(t, map[string]string{"GATEWISE_METRICS_TOKEN": "scraper-token-0123456789", "GATEWISE_METRICS_ADDR": "127.0.0.1:9090"})
	if err != nil || s.cfg.MetricsToken != "scraper-token-0123456789" || s.cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("%v %s: token %q addr %q", err, msg, s.cfg.MetricsToken, s.cfg.MetricsAddr)
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GATEWISE_METRICS_TOKEN": "short"}, "gatewise: GATEWISE_METRICS_TOKEN: use at least 16 characters (for example: openssl rand -hex 32)\n"},
		{map[string]string{"GATEWISE_METRICS_TOKEN": "same-token-0123456789", "GATEWISE_AUTH_TOKEN": "same-token-0123456789"},
			"gatewise: GATEWISE_METRICS_TOKEN: use a token of its own, not the API token: a scraper needs to read metrics, not to act as the user api\n"},
	} {
		if _, msg, err := readServe(t, c.env); err == nil || msg != c.want {
			t.Errorf("%v: %q, want %q", c.env, msg, c.want)
		}
	}
}

// A worker with --metrics-addr serves /metrics (behind its token) and
// /healthz there, and gatewise healthcheck asks it.
func TestWorkerServesMetrics(t *testing.T) {
	t.Parallel()
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run a worker")
	}
	dsn := storetest.Schema(t, base)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"worker", "--log-format", "json"}, env(map[string]string{"GATEWISE_DB": dsn,
			"GATEWISE_METRICS_ADDR": "127.0.0.1:0", "GATEWISE_METRICS_TOKEN": "scraper-token-0123456789"}), strings.NewReader(""), io.Discard, logs)
	}()
	t.Cleanup(func() { cancel(); <-done })
	// The listener's address is in its log line (port 0 picks a free one);
	// the bound waits for a starting process, it measures nothing.
	var url string
	for deadline := time.Now().Add(time.Minute); url == ""; time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving metrics" {
				url = strings.TrimSuffix(l.URL, "/metrics")
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker never served its metrics:\n%s", logs.String())
		}
	}
	if out, errOut, code := runCmdEnv(t, nil, "healthcheck", "--url", url+"/healthz"); code != 0 {
		t.Errorf("healthcheck of the worker: exit %d %s%s", code, out, errOut)
	}
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scraper-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `gatewise_runs{state="queued"} 0`) || !strings.Contains(string(body), "gatewise_queue_depth 0") {
		t.Errorf("worker /metrics: %d\n%s", resp.StatusCode, body)
	}
	if resp, err := http.Get(url + "/metrics"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("worker /metrics without the token: %v %v", resp, err)
	}
}

// runCmdEnv runs gatewise with the given environment.
func runCmdEnv(t *testing.T, environ map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, env(environ), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), exitCode(err, &errb)
}
