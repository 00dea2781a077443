package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveOn runs s on a loopback listener until the test ends and returns
// the address to dial.
func serveOn(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, ln, s.Handler(), nil) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// withToken is a handler that adds the API token to every request.
func withToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+testToken)
		h.ServeHTTP(w, r)
	})
}

// The attack: a POST to any path ending in /uploads, signed out, sending
// its body a byte at a time, was granted the one-hour upload deadline
// before sign-in and routing, so it outlived the read timeout (a /signin
// POST was cut at it) and a few hundred of them held every file the
// server may open. Now such a request is cut at the read timeout,
// configured short here.
func TestSlowUploadOfNoOneIsCutAtTheReadTimeout(t *testing.T) {
	t.Parallel()
	s, _ := newAuthServer(t, func(c *Config) { c.ReadTimeout = time.Second; c.UploadTimeout = time.Hour })
	addr := serveOn(t, s)
	for _, target := range []string{"/x/uploads", "/api/v1/uploads", "/architectures/abc/uploads"} {
		t.Run(strings.ReplaceAll(target, "/", "_"), func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: gatewise.test\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n", target)
			closed := make(chan struct{})
			go func() {
				io.Copy(io.Discard, conn) // whatever the answer, until the server hangs up
				close(closed)
			}()
			// The bound is the test's patience, well past the 1 s read
			// timeout; the upload deadline would be an hour.
			patience := time.After(20 * time.Second)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					return
				case <-patience:
					t.Fatalf("a signed-out slow POST to %s is still open after 20 s; the read timeout is 1 s", target)
				case <-tick.C:
					conn.Write([]byte("x")) // fails once the server has hung up; the reader sees it
				}
			}
		})
	}
}

// A signed-in upload to a real upload route still gets the long deadline:
// its body arrives over more than the read timeout and the log is read.
func TestSlowUploadSignedInGetsTheUploadDeadline(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, func(c *Config) { c.ReadTimeout = time.Second; c.UploadTimeout = time.Minute })
	startRunner(t, s)
	id := create(t, withToken(h), loadExample(t, "single-provider"))
	addr := serveOn(t, s)

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("architecture_id", id)
		mw.WriteField("map", logMap)
		f, _ := mw.CreateFormFile("file", "slow.csv")
		lines := strings.SplitAfter(logCSV(), "\n")
		// Ten pieces 300 ms apart: 3 s, three times the read timeout.
		for i := range 10 {
			time.Sleep(300 * time.Millisecond)
			for _, l := range lines[i*len(lines)/10 : (i+1)*len(lines)/10] {
				io.WriteString(f, l)
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, err := http.NewRequest("POST", "http://"+addr+"/api/v1/uploads", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a signed-in slow upload was cut: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(bufio.NewReader(resp.Body))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"rows_used":60`) {
		t.Fatalf("a signed-in slow upload got %d: %s", resp.StatusCode, body)
	}
}
