package server

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// pages are the views the server renders; each is parsed with the layout
// and the shared partials once, at start-up, so a broken template stops the
// server from starting instead of failing a request.
var pageNames = []string{"home", "architecture_list", "architecture_form", "architecture_show", "architecture_delete", "run_show", "run_list", "catalog", "upload_show", "upload_map", "run_compare", "catalog_prices", "signin", "error"}

type views struct {
	pages map[string]*template.Template
}

func parseViews(files fs.FS, funcs template.FuncMap) (*views, error) {
	v := &views{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "layout.html", "partials.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		v.pages[name] = t
	}
	// Every page file must be registered above, so none is silently unreachable.
	all, err := fs.Glob(files, "*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if _, ok := v.pages[name]; !ok && name != "layout" && name != "partials" {
			return nil, fmt.Errorf("templates: %s is not a registered page", f)
		}
	}
	return v, nil
}

// withUser returns a copy of a page view with Layout.User set. Every page
// embeds Layout; setting the user here keeps handlers from having to.
func withUser(data any, user string) any {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Struct {
		return data
	}
	f, ok := v.Type().FieldByName("Layout")
	if !ok || f.Type != reflect.TypeFor[Layout]() || len(f.Index) != 1 {
		return data
	}
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	cp.Field(f.Index[0]).FieldByName("User").SetString(user)
	return cp.Interface()
}

// render executes a page into a buffer first, so a template error never
// sends half a page.
func (s *Server) render(c *gin.Context, status int, page string, data any) {
	t, ok := s.views.pages[page]
	if !ok {
		s.log.ErrorContext(c.Request.Context(), "render: unknown page", "page", page)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if u := userOf(c); u != "" {
		data = withUser(data, u)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render failed", "page", page, "error", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (s *Server) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"static":  s.assets.url,
		"join":    strings.Join,
		"add":     func(a, b int) int { return a + b },
		"number":  number,
		"percent": percent,
		"date":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"isoDate": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"size":    fileSize,
		"shareBlock": func(action string, shares []ShareView, what string) shareBlock {
			return shareBlock{Action: action, Shares: shares, What: what}
		},
	}
}

// shareBlock is what the shares partial shows.
type shareBlock struct {
	Action string
	Shares []ShareView
	What   string
}

// fileSize writes a file's size for people: 1.4 MB, 980 KB, 12 bytes.
func fileSize(n int64) string {
	switch {
	case n >= 1e9:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + " GB"
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	case n >= 1e3:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 0, 64) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// percent writes a share as a percentage with at most two decimals, so
// 0.55 reads "55 %" and not its binary approximation.
func percent(v float64) string {
	return strconv.FormatFloat(math.Round(v*10000)/100, 'f', -1, 64) + " %"
}

// number formats any numeric template value with thousands separators.
func number(v any) string {
	switch x := v.(type) {
	case int:
		return formatNumber(float64(x))
	case int64:
		return formatNumber(float64(x))
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return formatNumber(x)
	}
	return fmt.Sprint(v)
}

// formatNumber writes 400000 as "400,000" and keeps decimals that matter:
// the shortest decimal that reads back as v (4.26, not the
// 4.2599999999999998 its fractional part alone would print).
func formatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	digits, frac, _ := strings.Cut(strconv.FormatFloat(math.Abs(v), 'f', -1, 64), ".")
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
