// Package templates embeds gatewise's HTML pages. The server parses them once
// at start-up: layout.html wraps every page, partials.html holds shared
// pieces, and each other file defines one page's "content".
package templates

import "embed"

// FS holds every page template.
//
//go:embed *.html
var FS embed.FS
