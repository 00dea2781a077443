// Package memo turns a simulation result into the decision a team can sign:
// it excludes the options a hard constraint rules out, scores the rest on the
// failover / cost / observability triangle, says when two options are too
// close to rank, finds the assumptions that would change the answer, and
// writes the one-page Markdown memo (and its HTML) with the configuration to
// ship the chosen option.
//
// The package is pure: it never touches the network or a database, so the
// same inputs always give the same memo and golden files can pin it down.
package memo
