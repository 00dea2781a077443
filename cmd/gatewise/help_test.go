package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"gatewise/server"
	"gatewise/version"
)

// wantUsage is the whole of "gatewise help": one line per command.
const wantUsage = `gatewise tells a team which AI gateway to put in front of its LLM providers, or that it needs none yet.

Usage: gatewise [COMMAND] [flags]

Commands:
  serve          serve the web app (what plain "gatewise" does)
  worker         work simulation runs queued on a PostgreSQL database, without serving HTTP
  check          validate an architecture file (YAML or JSON) and print every problem with its line
  simulate       replay the traffic through every option under outages and write the decision memo
  rollout        write one option's rollout bundle (configs, SDK settings, drill) without simulating
  ingest         read a request log and summarise the traffic it describes
  prices         price requests and gateways: list, cost, diff, gateways
  hash-password  read a password on standard input and print its hash for a users file
  claim          give everything made without sign-in to one user
  shares         list and revoke read-only share links, a departed user's too
  healthcheck    ask a running server whether it is healthy (a container's HEALTHCHECK)
  version        print the version (also: gatewise --version)
  help           list the commands, or show one command's flags: gatewise help COMMAND

Run "gatewise help COMMAND" or "gatewise COMMAND -h" for a command's flags.
`

func TestHelpListsTheCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}, {"help", "help"}} {
		out, errOut, code := runCmd(t, args...)
		if code != 0 || out != wantUsage || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s\nwant exit 0 and:\n%s", args, code, errOut, out, wantUsage)
		}
	}
}

// "gatewise help CMD" prints on standard output what "gatewise CMD -h"
// prints on standard error, and both exit 0, for every command.
func TestHelpForEachCommand(t *testing.T) {
	t.Parallel()
	first := map[string]string{
		"serve":         "Usage: gatewise [serve] [flags]\n",
		"worker":        "Usage: gatewise worker --db postgres://...\n",
		"check":         "Usage: gatewise check -f FILE\n",
		"simulate":      "Usage: gatewise simulate -f ARCH.yaml ",
		"rollout":       "Usage: gatewise rollout -f ARCH.yaml --gateway ID --out DIR\n",
		"ingest":        "Usage: gatewise ingest FILE ",
		"prices":        "Usage:\n  gatewise prices list ",
		"hash-password": "Usage: gatewise hash-password < password\n",
		"claim":         "Usage: gatewise claim -user NAME ",
		"shares":        "Usage:\n  gatewise shares list ",
		"healthcheck":   "Usage: gatewise healthcheck [--url URL] [--timeout D]\n",
		"version":       "Usage: gatewise version\n",
	}
	if len(first) != len(commands) {
		t.Fatalf("%d commands, %d checked", len(commands), len(first))
	}
	for _, c := range commands {
		want, ok := first[c.name]
		if !ok {
			t.Errorf("command %s is not checked", c.name)
			continue
		}
		helpOut, helpErr, code := runCmd(t, "help", c.name)
		if code != 0 || !strings.HasPrefix(helpOut, want) || helpErr != "" {
			t.Errorf("help %s: exit %d, stderr %q, stdout %.200q; want exit 0 and a start of %q", c.name, code, helpErr, helpOut, want)
		}
		flagOut, flagErr, code := runCmd(t, c.name, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d, want 0", c.name, code)
		}
		if got := flagOut + flagErr; got != helpOut {
			t.Errorf("%s -h printed %.300q; want what help %s prints, %.300q", c.name, got, c.name, helpOut)
		}
	}
	// serve's flags are listed, with their environment variables.
	out, _, _ := runCmd(t, "help", "serve")
	for _, line := range []string{
		"  -secure-cookies\n",
		"  -workers int\n    \tsimulations run at once, 1 to 64, by default one per core; more wait in the queue (env GATEWISE_WORKERS) (default ",
		"  -max-body bytes\n    \tlargest request body accepted (bytes, or with KiB, MiB, GiB) (env GATEWISE_MAX_BODY) (default 2MiB)\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("help serve lacks %q:\n%s", line, out)
		}
	}
	// A subcommand's own flags, through help.
	out, _, code := runCmd(t, "help", "prices", "cost")
	if code != 0 || !strings.HasPrefix(out, "Usage: gatewise prices cost --model M ") || !strings.Contains(out, "  -usage-style string\n") {
		t.Errorf("help prices cost: exit %d\n%s", code, out)
	}
}

func TestHelpUnknownCommand(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		last string
	}{
		{[]string{"frobnicate"}, `gatewise: unknown command "frobnicate"` + "\n"},
		{[]string{"srve", "--addr", ":1"}, `gatewise: unknown command "srve" (did you mean serve?)` + "\n"},
		{[]string{"help", "chek"}, `gatewise: unknown command "chek" (did you mean check?)` + "\n"},
	} {
		out, errOut, code := runCmd(t, c.args...)
		if code != 2 || out != "" || errOut != wantUsage+c.last {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 2, the command list and %q", c.args, code, out, errOut, c.last)
		}
	}
}

func TestVersionFlagAndCommand(t *testing.T) {
	t.Parallel()
	want := "gatewise " + version.String() + "\n"
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		out, errOut, code := runCmd(t, args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", args, code, out, errOut, want)
		}
	}
	_, errOut, code := runCmd(t, "version", "extra")
	if code != 2 || errOut != "gatewise: version takes no arguments, got [\"extra\"]\n" {
		t.Errorf("version extra: exit %d, %q", code, errOut)
	}
}

// hash-password reads only standard input; an argument (a password typed
// where shell history keeps it) is refused.
func TestHashPasswordFlags(t *testing.T) {
	t.Parallel()
	_, errOut, code := runCmd(t, "hash-password", "s3cret-password")
	if code != 2 || errOut != "gatewise: hash-password takes no arguments; give the password on standard input\n" {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// readServe reads serve's settings without starting it.
func readServe(t *testing.T, environ map[string]string, args ...string) (serveSetup, string, error) {
	t.Helper()
	var errb bytes.Buffer
	s, err := readServeFlags(args, env(environ), &errb)
	var msg string
	if err != nil {
		var out bytes.Buffer
		exitCode(err, &out)
		msg = out.String()
	}
	return s, msg, err
}

// A boolean flag takes no value, so the flag after it is read as a flag
// (it used to swallow "--addr" as its value); numbers and sizes are typed.
func TestServeFlagTypes(t *testing.T) {
	t.Parallel()
	s, msg, err := readServe(t, nil, "--secure-cookies", "--addr", "127.0.0.1:9999", "--workers", "3", "--max-body", "512KiB", "--max-upload", "1GiB", "--runs-per-minute", "0")
	if err != nil {
		t.Fatalf("%v %s", err, msg)
	}
	want := server.Config{Addr: "127.0.0.1:9999", SecureCookies: true, Workers: 3, MaxBodyBytes: 512 << 10, MaxUploadBytes: 1 << 30,
		RunsPerMinute: 0, UploadsPerMinute: server.DefaultUploadsPerMinute, MaxTrials: server.DefaultMaxTrials}
	got := s.cfg
	if got.Addr != want.Addr || got.SecureCookies != want.SecureCookies || got.Workers != want.Workers || got.MaxBodyBytes != want.MaxBodyBytes ||
		got.MaxUploadBytes != want.MaxUploadBytes || got.RunsPerMinute != want.RunsPerMinute || got.UploadsPerMinute != want.UploadsPerMinute ||
		got.MaxTrials != want.MaxTrials || s.db != "gatewise.db" {
		t.Errorf("config %+v, db %q; want %+v, db gatewise.db", got, s.db, want)
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want bool
	}{
		{nil, nil, false},
		{nil, []string{"--secure-cookies=false"}, false},
		{map[string]string{"GATEWISE_SECURE_COOKIES": "true"}, nil, true},
		{map[string]string{"GATEWISE_SECURE_COOKIES": "1"}, nil, true},
		{map[string]string{"GATEWISE_SECURE_COOKIES": "true"}, []string{"-secure-cookies=false"}, false},
		{map[string]string{"GATEWISE_SECURE_COOKIES": "false"}, []string{"-secure-cookies"}, true},
	} {
		s, msg, err := readServe(t, c.env, c.args...)
		if err != nil || s.cfg.SecureCookies != c.want {
			t.Errorf("env %v, args %v: secure cookies %v (%s); want %v", c.env, c.args, s.cfg.SecureCookies, msg, c.want)
		}
	}
}

// Flags win over the environment, which wins over defaults; a bad value
// is blamed on the flag or the variable it came from.
func TestServeFlagsAndEnvironment(t *testing.T) {
	t.Parallel()
	s, msg, err := readServe(t, map[string]string{"GATEWISE_ADDR": "127.0.0.1:1", "GATEWISE_WORKERS": "5", "GATEWISE_MAX_BODY": "1MiB", "GATEWISE_DB": "env.db"},
		"--addr", "127.0.0.1:2", "--db", "flag.db")
	if err != nil {
		t.Fatalf("%v %s", err, msg)
	}
	if s.cfg.Addr != "127.0.0.1:2" || s.db != "flag.db" || s.cfg.Workers != 5 || s.cfg.MaxBodyBytes != 1<<20 {
		t.Errorf("addr %q, db %q, workers %d, max body %d; want the flags' addr and db, the environment's workers and max body", s.cfg.Addr, s.db, s.cfg.Workers, s.cfg.MaxBodyBytes)
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"GATEWISE_WORKERS": "two"}, nil, `gatewise: GATEWISE_WORKERS: "two" is not a whole number` + "\n"},
		{nil, []string{"--workers", "two"}, `gatewise: invalid value "two" for flag -workers: parse error` + "\n"},
		{map[string]string{"GATEWISE_WORKERS": "0"}, nil, "gatewise: GATEWISE_WORKERS: 0 is not a number from 1 to 64\n"},
		{map[string]string{"GATEWISE_WORKERS": "0"}, []string{"--workers", "65"}, "gatewise: -workers: 65 is not a number from 1 to 64\n"},
		{map[string]string{"GATEWISE_SECURE_COOKIES": "maybe"}, nil, `gatewise: GATEWISE_SECURE_COOKIES: "maybe" is not true or false` + "\n"},
		{map[string]string{"GATEWISE_MAX_BODY": "lots"}, nil, `gatewise: GATEWISE_MAX_BODY: "lots" must be a positive size such as 2MiB` + "\n"},
		{nil, []string{"--max-upload", "-1"}, `gatewise: invalid value "-1" for flag -max-upload: must be a positive size such as 2MiB` + "\n"},
		{map[string]string{"GATEWISE_LOG_LEVEL": "loud"}, nil, `gatewise: GATEWISE_LOG_LEVEL: "loud" is not one of debug, info, warn, error` + "\n"},
		{nil, []string{"--log-format", "xml"}, `gatewise: -log-format: "xml" is not text or json` + "\n"},
		{map[string]string{"GATEWISE_MAX_TRIALS": "0"}, nil, "gatewise: GATEWISE_MAX_TRIALS: 0 is not a number from 1 to 1000000\n"},
		{nil, []string{"--uploads-per-minute", "-1"}, "gatewise: -uploads-per-minute: -1 is not a number from 0 to 100000\n"},
		{map[string]string{"GATEWISE_AUTH_TOKEN": "short"}, nil, "gatewise: GATEWISE_AUTH_TOKEN: use at least 16 characters (for example: openssl rand -hex 32)\n"},
		{nil, []string{"--secure-cookies", "--addr"}, "gatewise: flag needs an argument: -addr\n"},
	} {
		_, msg, err := readServe(t, c.env, c.args...)
		if err == nil || msg != c.want || exitCode(err, io.Discard) != 2 {
			t.Errorf("env %v, args %v: %q; want exit 2 with %q", c.env, c.args, msg, c.want)
		}
	}
}
