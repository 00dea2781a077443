package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"gatewise/server"
)

// healthcheck asks a running gatewise whether it is healthy: GET /healthz,
// exit status 0 on 200, 1 otherwise. It is what a container image without
// a shell or curl (gatewise's is the binary alone) runs as its HEALTHCHECK.
// By default it asks the server GATEWISE_ADDR names, on this machine.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "`URL` to ask (default: http://ADDR/healthz, ADDR from GATEWISE_ADDR or "+server.DefaultAddr+"; a worker's is http://METRICS_ADDR/healthz)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: gatewise healthcheck [--url URL] [--timeout D]\n\n"+
			"Asks a running gatewise serve (or a worker's --metrics-addr) for /healthz and exits 0\n"+
			"when it answers 200, 1 otherwise: a container's HEALTHCHECK, where the image has no shell.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("healthcheck takes no arguments, got %q", fs.Args())}
	}
	target := *url
	if target == "" {
		addr := getenv("GATEWISE_ADDR")
		if addr == "" {
			addr = server.DefaultAddr
		}
		target = "http://" + localAddr(addr) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("healthcheck: %w", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d %s", target, resp.StatusCode, body.Status)
	}
	fmt.Fprintf(stdout, "%s: %s\n", target, body.Status)
	return nil
}

// localAddr is addr as this machine reaches it: a wildcard host (":8080",
// "0.0.0.0:8080", "[::]:8080") is localhost.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
