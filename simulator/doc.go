// Package simulator is gatewise's Monte Carlo engine and the home of its input:
// the architecture Spec a team writes (form, YAML, JSON API or CLI all produce the
// same Spec), its parsing with positions for every problem, and its validation
// against the price catalog.
//
// The package is pure: it never imports net/http, gin or gorm, so the same
// pipeline runs from the browser, the API and the command line.
package simulator
