// Command gatewise-load drives a real gatewise server over loopback the way a
// busy team would, and reports what it cost the server.
//
// It builds ./cmd/gatewise (or takes --bin), starts it on a free loopback
// port with a throwaway database and upload folder, and lets --users users
// loose at once. Each user saves an architecture, uploads a generated LiteLLM
// SpendLogs export of --log-mb MB (streamed, never held in memory), queues a
// --trials-trial run, follows it until it is done, fetches the memo, then
// reads result pages --reads times. It prints, per endpoint, the count,
// errors by status and latency p50/p95/p99, plus throughput, wall time, the
// deepest queue position a run reported and the server's peak memory (VmHWM
// from /proc). The server is stopped with SIGINT (SIGKILL after a grace
// period) and its folder removed, whatever happens; --timeout bounds the run.
// If the tool itself is killed with SIGKILL, Linux kills the server with it,
// but the gatewise-load-* temporary folder stays behind.
//
// Each user connects from its own loopback address (127.0.0.2 on), because
// the server limits uploads and runs per client address and fifty users are
// fifty clients. Where only 127.0.0.1 answers (not Linux, or --addr [::1]:0)
// they share one address and those limits apply to all of them together.
//
// Usage:
//
//	go run ./cmd/gatewise-load [--users 50] [--log-mb 50] [--trials 2000] [--reads 20] [--json report.json]
//
// The exit status is 0 when every request succeeded and every run finished,
// 1 otherwise, 2 for bad usage.
package main
