package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"gatewise/pricing"
	"gatewise/simulator"
)

// check validates an architecture file and prints every problem as
// FILE:LINE:COLUMN: path: message, the form editors and CI logs link to.
func check(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "architecture `file` to check (YAML or JSON; - for standard input)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gatewise check -f FILE\n\nValidates an architecture file; exit status 0 when valid, 1 when not.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if *file == "" && fs.NArg() == 1 {
		*file = fs.Arg(0)
	}
	if *file == "" || fs.NArg() > 1 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("check needs one file: gatewise check -f FILE")}
	}

	data, err := readInput(*file)
	if err != nil {
		return err
	}
	spec, err := simulator.Load(data, pricing.Default())
	var problems simulator.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(stdout, formatProblem(*file, p))
		}
		noun := "problems"
		if len(problems) == 1 {
			noun = "problem"
		}
		fmt.Fprintf(stdout, "%s: %d %s\n", *file, len(problems), noun)
		return &exitError{code: 1, err: errProblems}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok: %q, %d providers, %d routes, %d options, %d scenarios\n",
		*file, spec.Name, len(spec.Providers), len(spec.Routes), len(spec.Gateways), len(spec.Scenarios))
	return nil
}

func formatProblem(file string, p simulator.Problem) string {
	loc := file
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", file, p.Line, max(p.Column, 1))
	}
	if p.Path != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Message)
	}
	return fmt.Sprintf("%s: %s", loc, p.Message)
}

// readInput reads a file, or standard input for "-", refusing anything larger
// than an architecture file can be.
func readInput(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return io.ReadAll(io.LimitReader(r, 2<<20))
}

func usageError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: 2, err: err}
}
