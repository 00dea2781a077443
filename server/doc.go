// Package server is gatewise's web shell: the gin router, middleware, page
// handlers and their typed view models. Handlers bind a form, validate it,
// call the pipeline and re-render or redirect; the pipeline itself lives in
// simulator, pricing and memo, and persistence in server/store.
package server
