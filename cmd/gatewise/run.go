package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"gatewise/server"
	"gatewise/version"
)

const usage = `gatewise tells a team which AI gateway to put in front of its LLM providers.

Usage:
  gatewise [serve] [flags]      serve the web app (default)
  gatewise check -f FILE        validate an architecture file (YAML or JSON)
  gatewise prices SUBCOMMAND    price requests and gateways: list, cost, diff, gateways
  gatewise ingest FILE          read a request log and summarise the traffic it describes
  gatewise simulate -f FILE     replay the traffic through every option under outages
  gatewise rollout -f FILE --gateway ID --out DIR
                                write one option's rollout bundle (configs, SDK settings, drill)
  gatewise hash-password        read a password on standard input, print its hash for a users file
  gatewise claim -user NAME     give the rows made without sign-in to NAME
  gatewise version              print the version

Run "gatewise COMMAND -h" for a command's flags.
`

// exitError carries a process exit status through run's error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errProblems marks a check that found problems: they are already printed.
var errProblems = errors.New("the file has problems")

// run is the whole program: it reads the subcommand, its flags and the
// environment (getenv), and writes to stdout and stderr. main only wires it to
// the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "prices":
		return pricesCmd(ctx, args, stdout, stderr)
	case "ingest":
		return ingestCmd(ctx, args, stdout, stderr)
	case "simulate":
		return simulateCmd(ctx, args, stdout, stderr)
	case "rollout":
		return rolloutCmd(ctx, args, stdout, stderr)
	case "hash-password":
		return hashPassword(args, stdin, stdout)
	case "claim":
		return claimCmd(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "gatewise", version.String())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, err: fmt.Errorf("unknown command %q", cmd)}
}

// hashPassword prints the bcrypt hash of the first line of stdin, for a
// users file line NAME:HASH.
func hashPassword(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("hash-password takes no arguments; give the password on standard input")}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	hash, err := server.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hash)
	return nil
}

// exitCode prints err (unless it was already reported) and picks the status:
// 0 success, 1 failure, 2 bad usage.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !errors.Is(err, errProblems) {
		fmt.Fprintln(stderr, "gatewise:", err)
	}
	return code
}
