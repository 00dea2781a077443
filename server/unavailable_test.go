package server

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/glebarez/sqlite"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/server/store/storetest"
)

// outageServer is a server on dsn, without the parallel test runner's
// other goroutines in its way: tests using it do not run in parallel.
func outageServer(t *testing.T, dsn string) http.Handler {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), dsn, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test"}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

func postArchitecture(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	data, err := os.ReadFile("../testdata/examples/single-provider.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return do(t, h, "POST", "/api/v1/architectures", strings.NewReader(string(data)), http.Header{"Content-Type": {"application/yaml"}})
}

// A SQLite file another process holds for writing: a write waits out the
// busy timeout, then gets a clear 503 with Retry-After; once the lock goes,
// the same request succeeds, and nothing is left running.
func TestSQLiteLockedIs503ThenRecovers(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "gatewise.db")
	h := outageServer(t, dbPath)
	wantStatus(t, postArchitecture(t, h), http.StatusCreated)
	baseline := runtime.NumGoroutine()

	other, err := sql.Open(sqlite.DriverName, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	rec := postArchitecture(t, h)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	wantBody(t, rec, "The database is busy or cannot be reached; try again in a moment.")
	if rec.Header().Get("Retry-After") != "5" {
		t.Errorf("Retry-After = %q", rec.Header().Get("Retry-After"))
	}
	// Reads go on: WAL lets readers past a writer.
	wantStatus(t, do(t, h, "GET", "/architectures", nil, nil), http.StatusOK)
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	other.Close()
	wantStatus(t, postArchitecture(t, h), http.StatusCreated)
	settleGoroutines(t, baseline)
}

// cutProxy forwards TCP to a database and can cut it off, as a restarting
// or unreachable PostgreSQL looks to gatewise.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut(true); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		d, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[d] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(d, c); d.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, d); c.Close() }()
	}
}

// cut closes every connection and refuses new ones while down.
func (p *cutProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// PostgreSQL going away and coming back: 503 while it is away, success
// after, and no goroutine left behind.
func TestPostgresOutageIs503ThenRecovers(t *testing.T) {
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to test a PostgreSQL outage")
	}
	u, err := url.Parse(storetest.Schema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()

	h := outageServer(t, u.String())
	wantStatus(t, postArchitecture(t, h), http.StatusCreated)
	baseline := runtime.NumGoroutine()

	proxy.cut(true)
	for _, path := range []string{"/api/v1/architectures", "/architectures"} {
		var rec *httptest.ResponseRecorder
		if path == "/architectures" {
			rec = do(t, h, "GET", path, nil, nil)
		} else {
			rec = postArchitecture(t, h)
		}
		wantStatus(t, rec, http.StatusServiceUnavailable)
		wantBody(t, rec, "The database is busy or cannot be reached")
	}
	wantStatus(t, do(t, h, "GET", "/healthz", nil, nil), http.StatusServiceUnavailable)

	proxy.cut(false)
	wantStatus(t, postArchitecture(t, h), http.StatusCreated)
	wantStatus(t, do(t, h, "GET", "/healthz", nil, nil), http.StatusOK)
	settleGoroutines(t, baseline+2) // the pool may hold one more connection (two proxy copiers) than before
}
