package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"gatewise/memo"
	"gatewise/pricing"
	"gatewise/simulator"
)

// rolloutCmd writes one option's rollout bundle for an architecture: the
// plan the simulation runs for it, rendered in the gateway's own format,
// with no simulation needed.
func rolloutCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "architecture `file` (YAML or JSON; - for standard input)")
	gateway := fs.String("gateway", "", "option `ID`: "+strings.Join(simulator.GatewayIDs(), ", "))
	out := fs.String("out", "", "`DIR` to write the bundle into")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gatewise rollout -f ARCH.yaml --gateway ID --out DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if *file == "" || *gateway == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("rollout needs -f ARCH.yaml, --gateway ID and --out DIR")}
	}
	if !slices.Contains(simulator.GatewayIDs(), *gateway) {
		return &exitError{code: 2, err: fmt.Errorf("--gateway: %q is not an option: use one of %s", *gateway, strings.Join(simulator.GatewayIDs(), ", "))}
	}
	cat := pricing.Default()
	spec, err := loadArchitecture(*file, cat, stderr)
	if err != nil {
		return err
	}
	plan, err := spec.PlanFor(cat, *gateway)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	b, err := memo.Rollout(spec, plan, cat)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if err := writeBundle(b, *out); err != nil {
		return err
	}
	for _, f := range b.Files {
		fmt.Fprintln(stdout, f.Name)
	}
	return nil
}
