// Package static embeds the files gatewise serves to browsers (CSS, small
// scripts). Only this folder is served, under a content hash.
package static

import "embed"

// FS holds every static file.
//
//go:embed *.css *.js
var FS embed.FS
