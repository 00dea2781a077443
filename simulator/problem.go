package simulator

import (
	"slices"
	"strconv"
	"strings"
)

// A Problem is one thing wrong with an architecture: where (a path like
// routes[1].share, and the line/column in the file when known) and what.
// Paths use the file's keys, never Go names, because users only see the file.
type Problem struct {
	Path    string `json:"path,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// String renders the problem the way an editor's error list would, position first.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteString(", column ")
			b.WriteString(strconv.Itoa(p.Column))
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one file; reporting them all at once
// spares users a fix-and-retry loop.
type Problems []Problem

// Error joins the problems so a plain error message still names each one.
func (ps Problems) Error() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Sort orders problems as their fields appear in the architecture file, so a
// list gathered from several checks still reads top to bottom.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		_, ka := resolvePath(a.Path, false)
		_, kb := resolvePath(b.Path, false)
		return comparePaths(ka, kb)
	})
}
