// Package static embeds the files gatewise serves to browsers (CSS, small
// scripts, the icon). Only this folder is served, under a content hash.
package static

import "embed"

// FS holds every static file.
//
//go:embed *.css *.js *.svg
var FS embed.FS
