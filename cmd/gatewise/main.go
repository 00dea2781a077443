// Command gatewise serves the gatewise web app and runs its pipeline from the
// command line. The commands table below is the list "gatewise help" prints
// and the dispatch run follows, so the two cannot drift apart.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"gatewise/pricing"
	"gatewise/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// cmdEnv is what a command may touch: the environment and the three streams.
type cmdEnv struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand: its name, the one line "gatewise help" shows
// for it, and what it does with its arguments.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, e cmdEnv) error
}

// commands are listed in the order a new user meets them. help is not in
// the table (it reads the table); run handles it first.
var commands = []command{
	{"serve", "serve the web app (what plain \"gatewise\" does)", func(ctx context.Context, args []string, e cmdEnv) error {
		return serve(ctx, args, e.getenv, e.stdout, e.stderr)
	}},
	{"worker", "work simulation runs queued on a PostgreSQL database, without serving HTTP", func(ctx context.Context, args []string, e cmdEnv) error {
		return worker(ctx, args, e.getenv, e.stdout, e.stderr)
	}},
	{"check", "validate an architecture file (YAML or JSON) and print every problem with its line", func(_ context.Context, args []string, e cmdEnv) error {
		return check(args, e.stdout, e.stderr)
	}},
	{"simulate", "replay the traffic through every option under outages and write the decision memo", func(ctx context.Context, args []string, e cmdEnv) error {
		return simulateCmd(ctx, args, e.stdout, e.stderr)
	}},
	{"rollout", "write one option's rollout bundle (configs, SDK settings, drill) without simulating", func(ctx context.Context, args []string, e cmdEnv) error {
		return rolloutCmd(ctx, args, e.stdout, e.stderr)
	}},
	{"ingest", "read a request log and summarise the traffic it describes", func(ctx context.Context, args []string, e cmdEnv) error {
		return ingestCmd(ctx, args, e.stdout, e.stderr)
	}},
	{"prices", "price requests and gateways: list, cost, diff, gateways", func(ctx context.Context, args []string, e cmdEnv) error {
		return pricesCmd(ctx, args, e.stdout, e.stderr)
	}},
	{"hash-password", "read a password on standard input and print its hash for a users file", func(_ context.Context, args []string, e cmdEnv) error {
		return hashPassword(args, e.stdin, e.stdout, e.stderr)
	}},
	{"claim", "give everything made without sign-in to one user", func(ctx context.Context, args []string, e cmdEnv) error {
		return claimCmd(ctx, args, e.getenv, e.stdout, e.stderr)
	}},
	{"shares", "list and revoke read-only share links, a departed user's too", func(ctx context.Context, args []string, e cmdEnv) error {
		return sharesCmd(ctx, args, e.getenv, e.stdout, e.stderr)
	}},
	{"healthcheck", "ask a running server whether it is healthy (a container's HEALTHCHECK)", func(ctx context.Context, args []string, e cmdEnv) error {
		return healthcheck(ctx, args, e.getenv, e.stdout, e.stderr)
	}},
	{"version", "print the version (also: gatewise --version)", func(_ context.Context, args []string, e cmdEnv) error {
		return versionCmd(args, e.stdout, e.stderr)
	}},
}

// helpSummary is help's own line in the list.
const helpSummary = "list the commands, or show one command's flags: gatewise help COMMAND"

// run is the whole program: it reads the subcommand, its flags and the
// environment (getenv), and writes to stdout and stderr. main only wires it to
// the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := cmdEnv{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return serve(ctx, nil, getenv, stdout, stderr)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(ctx, args[1:], e)
	case "-version", "--version":
		return versionCmd(args[1:], stdout, stderr)
	}
	// Flags alone mean serve: "gatewise --addr :9000".
	if strings.HasPrefix(args[0], "-") {
		return serve(ctx, args, getenv, stdout, stderr)
	}
	c, ok := lookup(args[0])
	if !ok {
		return unknownCommand(args[0], stderr)
	}
	return c.run(ctx, args[1:], e)
}

// help prints the command list, or one command's flags when named ("gatewise
// help prices cost" works too). Help asked for goes to standard output, so
// it can be piped to a pager.
func help(ctx context.Context, args []string, e cmdEnv) error {
	if len(args) == 0 || args[0] == "help" {
		writeUsage(e.stdout)
		return nil
	}
	c, ok := lookup(args[0])
	if !ok {
		return unknownCommand(args[0], e.stderr)
	}
	// Every command answers -h with its usage; asking it is what keeps
	// "help CMD" and "CMD -h" the same text.
	e.stderr = e.stdout
	err := c.run(ctx, append(args[1:len(args):len(args)], "-h"), e)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// unknownCommand lists the commands and says which one was not known, with
// the nearest name when the word looks like a typo of one.
func unknownCommand(name string, stderr io.Writer) error {
	writeUsage(stderr)
	names := []string{"help"}
	for _, c := range commands {
		names = append(names, c.name)
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if near := (&pricing.Catalog{}).Suggest(names, name); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return &exitError{code: 2, err: errors.New(msg)}
}

// writeUsage prints what gatewise is and one line per command.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "gatewise tells a team which AI gateway to put in front of its LLM providers, or that it needs none yet.\n\n"+
		"Usage: gatewise [COMMAND] [flags]\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "help", helpSummary)
	tw.Flush()
	fmt.Fprint(w, "\nRun \"gatewise help COMMAND\" or \"gatewise COMMAND -h\" for a command's flags.\n")
}

// versionCmd prints the version, which memos and /healthz also carry.
func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gatewise version\n\nPrints the version of this build, as memos and /healthz report it.")
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("version takes no arguments, got %q", fs.Args())}
	}
	fmt.Fprintln(stdout, "gatewise", version.String())
	return nil
}
