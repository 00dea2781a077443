package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"gatewise/server"
)

// exitError carries a process exit status through run's error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errProblems marks a check that found problems: they are already printed.
var errProblems = errors.New("the file has problems")

// hashPassword prints the bcrypt hash of the first line of stdin, for a
// users file line NAME:HASH.
func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: gatewise hash-password < password\n\n"+
			"Reads a password (8 to 72 bytes) from the first line of standard input and prints\n"+
			"its bcrypt hash, for a NAME:HASH line of the users file (GATEWISE_USERS).\n")
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
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
