package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// serverPackage is built when no --bin is given; the import path works from
// anywhere inside the module, which is where go run and go test start.
const serverPackage = "gatewise/cmd/gatewise"

// buildServer compiles gatewise into dir and returns the binary's path.
func buildServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "gatewise")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, serverPackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (run inside the gatewise module, or pass --bin): %w\n%s", serverPackage, err, bytes.TrimSpace(out))
	}
	return bin, nil
}

// server is the gatewise process under load.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *lineLog
	// exited is closed once the process has ended; waitErr is then its
	// exit error.
	exited  chan struct{}
	waitErr error
	// stopping is set before the stop signal, so that an exit afterwards
	// is not reported as a crash.
	mu       sync.Mutex
	stopping bool
}

// startServer runs `gatewise serve` on addr with its database and uploads
// in dir, and returns once /healthz answers. Its log goes to logs.
func startServer(ctx context.Context, bin, addr, dir string, logs *lineLog) (*server, error) {
	uploads := filepath.Join(dir, "uploads")
	if err := os.Mkdir(uploads, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve",
		"--addr", addr,
		"--db", filepath.Join(dir, "load.db"),
		"--upload-dir", uploads,
		"--log-level", "warn")
	cmd.Env = serverEnv(os.Environ())
	cmd.Stderr = logs // stdout only says where it listens
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, logs: logs, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx, 30*time.Second); err != nil {
		s.stop(time.Second)
		return nil, err
	}
	return s, nil
}

// serverEnv drops GATEWISE_* settings from the environment, so the server
// runs with the flags given here and its defaults (open, no sign-in), not
// with whatever the shell has set.
func serverEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GATEWISE_") {
			out = append(out, kv)
		}
	}
	return out
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// waitHealthy polls /healthz until it answers 200.
func (s *server) waitHealthy(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		select {
		case <-s.exited:
			return fmt.Errorf("server exited before answering /healthz: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("server did not answer %s/healthz within %s: %v", s.url, limit, last)
		case <-tick.C:
		}
	}
}

// crashed reports whether the process ended before it was asked to stop.
func (s *server) crashed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.exited:
		return !s.stopping
	default:
		return false
	}
}

// stopResult is how the server ended.
type stopResult struct {
	Signal string `json:"signal"` // SIGINT, or SIGKILL when SIGINT was not enough
	Exit   string `json:"exit"`   // the process's exit status
	Took   string `json:"took"`
}

// stop sends SIGINT, waits up to grace for in-flight requests to finish and
// the database to close, then sends SIGKILL.
func (s *server) stop(grace time.Duration) stopResult {
	start := time.Now()
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	res := stopResult{Signal: "SIGINT"}
	select {
	case <-s.exited:
		res.Signal = "none (already exited)"
	default:
		if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
			res.Signal = "SIGINT failed: " + err.Error()
		}
		select {
		case <-s.exited:
		case <-time.After(grace):
			res.Signal = "SIGKILL after " + grace.String()
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	res.Exit = "0"
	if s.waitErr != nil {
		res.Exit = s.waitErr.Error()
	}
	res.Took = time.Since(start).Round(time.Millisecond).String()
	return res
}

// lineLog passes the server's output on line by line with a prefix, and
// keeps the first lines for the report: at --log-level warn every line is
// worth reading.
type lineLog struct {
	mu      sync.Mutex
	out     io.Writer
	partial []byte
	kept    []string
	total   int
}

const keptLogLines = 200

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *lineLog) line(s string) {
	l.total++
	if len(l.kept) < keptLogLines {
		l.kept = append(l.kept, s)
	}
	if l.out != nil {
		fmt.Fprintf(l.out, "server: %s\n", s)
	}
}

// lines returns the kept lines and how many there were in all, the last
// unterminated one included.
func (l *lineLog) lines() ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = nil
	}
	return append([]string(nil), l.kept...), l.total
}
