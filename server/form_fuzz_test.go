package server

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gatewise/pricing"
	"gatewise/simulator"
)

// FuzzArchitectureForm posts any body to the form's decoding, as
// saveArchitecture does: the rows stay bounded, nothing panics, and a form
// that passes validation describes the same architecture as the file it is
// saved as, both read back through the form and through the file parser.
func FuzzArchitectureForm(f *testing.F) {
	cat := pricing.Default()
	f.Add(formValues(blankForm()).Encode())
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "examples", "*.yaml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		spec, err := simulator.Load(data, cat)
		if err != nil {
			f.Fatal(err)
		}
		// The examples are valid through the form too, so their seeds reach
		// the round trips below.
		form := formFromSpec(spec)
		if got, problems := form.spec(); len(mergeProblems(problems, got.Validate(cat))) > 0 {
			f.Fatalf("%s through the form: %v", p, mergeProblems(problems, got.Validate(cat)))
		}
		f.Add(formValues(form).Encode())
	}
	for _, body := range []string{
		"providers[49].id=openai&providers[50].id=x&routes[999].name=a&scenarios[1].name=b",
		"action=remove-providers-0&providers[0].id=openai",
		"action=add-routes&action=add-routes",
		"traffic.origin.eu=0.5&traffic.origin.=1&compliance.data_residency.eu=%20eu%20",
		"name=%zz&horizon_days=1e3&simulation.seed=-1&team.engineers=1_000",
		"team.seats=3&traffic.logs=exports/spend.csv",
		"advanced=" + url.QueryEscape("outage_model:\n  providers:\n    openai: {incidents_per_month: 2}\ngateway_settings:\n  litellm: {replicas: 3}\n"),
		"advanced=" + url.QueryEscape("a: &a [x, x, x]\nb: &b [*a, *a, *a]\noutage_model: *b\n"),
		"advanced=" + url.QueryEscape("name: sneaky\n"),
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, _ := url.ParseQuery(body) // ParseForm keeps what it could read, too
		form := readArchitectureForm(v)
		form.apply(parseFormAction(v.Get("action")))
		if len(form.Providers) > maxFormRows || len(form.Routes) > maxFormRows || len(form.Scenarios) > maxFormRows {
			t.Fatalf("%d providers, %d routes, %d scenarios: more than %d rows", len(form.Providers), len(form.Routes), len(form.Scenarios), maxFormRows)
		}
		spec, problems := form.spec()
		if all := mergeProblems(problems, spec.Validate(cat)); len(all) > 0 {
			return
		}
		// Saved, then edited: the form filled from the spec reads back as
		// the same spec.
		again, problems := readArchitectureForm(formValues(formFromSpec(spec))).spec()
		if len(problems) > 0 {
			t.Fatalf("the form filled from a valid spec has problems: %v", problems)
		}
		if !reflect.DeepEqual(again, spec) {
			t.Fatalf("the form changed the spec:\n got %#v\nwant %#v", again, spec)
		}
		// Downloaded: the file says the same and is valid.
		data, err := spec.YAML()
		if err != nil {
			t.Fatal(err)
		}
		file, err := simulator.Load(data, cat)
		var ps simulator.Problems
		if errors.As(err, &ps) || err != nil {
			t.Fatalf("the downloaded file is refused: %v\n%s", err, data)
		}
		if !reflect.DeepEqual(file, spec) {
			t.Fatalf("the downloaded file reads as another spec:\n got %#v\nwant %#v\n%s", file, spec, strings.TrimSpace(string(data)))
		}
	})
}
