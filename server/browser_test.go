package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatewise/pricing"
	"gatewise/server/store"
)

// browserTest starts the real server on a loopback port with a fresh SQLite
// file and a headless Chromium pointed at it. It runs when GATEWISE_E2E=1
// (as .ci/run sets) and then fails, rather than skips, without Chromium.
func browserTest(t *testing.T) (ctx context.Context, base string, shot func(name string)) {
	t.Helper()
	if os.Getenv("GATEWISE_E2E") != "1" {
		t.Skip("browser test: set GATEWISE_E2E=1 and install Debian's chromium (apt-get install chromium) to run it")
	}
	chrome := os.Getenv("GATEWISE_CHROMIUM")
	if chrome == "" {
		for _, c := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(c); err == nil {
				chrome = p
				break
			}
		}
	}
	if chrome == "" {
		t.Fatal("GATEWISE_E2E=1 but no chromium on PATH: apt-get install chromium")
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "e2e.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Addr: "127.0.0.1:0", Version: "e2e"}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(srvCtx, func(u string) { ready <- u }) }()
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		stopServer()
		if err := <-done; err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		st.Close()
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1600),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })

	dir := t.TempDir()
	if keep := os.Getenv("GATEWISE_E2E_SCREENSHOTS"); keep != "" {
		dir = keep
	}
	shot = func(name string) {
		t.Helper()
		var png []byte
		if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 80)); err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, t.Name()+"-"+name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	return ctx, base, shot
}

func TestBrowserStartFromExampleAndSave(t *testing.T) {
	ctx, base, shot := browserTest(t)
	var h1, url string
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`a[href="/architectures/new?example=multi-region"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot("home")
	err = chromedp.Run(ctx,
		chromedp.Click(`a[href="/architectures/new?example=multi-region"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#save`, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot("form")
	err = chromedp.Run(ctx,
		chromedp.Click(`#save`, chromedp.ByID),
		chromedp.WaitVisible(`a[href$="/download"]`, chromedp.ByQuery),
		chromedp.Text(`h1`, &h1, chromedp.ByQuery),
		chromedp.Location(&url),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot("architecture")
	if h1 != "Support assistant, 5 providers, 3 regions" {
		t.Errorf("architecture page h1 = %q", h1)
	}
	if !regexp.MustCompile(`/architectures/[a-z0-9]{12}$`).MatchString(url) {
		t.Errorf("landed on %q, want the saved architecture's page", url)
	}
}

func TestBrowserBadShareShowsMessageBesideField(t *testing.T) {
	ctx, base, shot := browserTest(t)
	const share = `input[name="routes[1].share"]`
	var value, cellText, invalid string
	var ok bool
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/architectures/new?example=multi-region"),
		chromedp.WaitVisible(share, chromedp.ByQuery),
		chromedp.SetValue(share, "abc", chromedp.ByQuery),
		chromedp.Click(`#save`, chromedp.ByID),
		chromedp.WaitVisible(`#problems`, chromedp.ByID),
		chromedp.Value(share, &value, chromedp.ByQuery),
		chromedp.AttributeValue(share, "aria-invalid", &invalid, &ok, chromedp.ByQuery),
		// The message sits in the same table cell as the input.
		chromedp.Evaluate(`document.querySelector('input[name="routes[1].share"]').closest('td').innerText`, &cellText),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot("bad-share")
	if value != "abc" {
		t.Errorf("input after error = %q, want the user's %q kept", value, "abc")
	}
	if invalid != "true" {
		t.Errorf("aria-invalid = %q", invalid)
	}
	if !strings.Contains(cellText, `must be a number, not "abc"`) {
		t.Errorf("message beside the field = %q", cellText)
	}
}

func TestBrowserAddAndRemoveRouteRows(t *testing.T) {
	ctx, base, shot := browserTest(t)
	var rows int
	var first string
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/architectures/new?example=multi-region"),
		chromedp.WaitVisible(`button[value="add-routes"]`, chromedp.ByQuery),
		chromedp.Click(`button[value="add-routes"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`input[name="routes[3].name"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('tr.route-row').length`, &rows),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot("added-route")
	if rows != 4 {
		t.Fatalf("after Add route: %d rows, want 4", rows)
	}
	err = chromedp.Run(ctx,
		chromedp.Click(`button[value="remove-routes-0"]`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`input[name="routes[3].name"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('tr.route-row').length`, &rows),
		chromedp.Value(`input[name="routes[0].name"]`, &first, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot("removed-route")
	if rows != 3 || first != "summarize" {
		t.Errorf("after removing the first route: %d rows, first %q; want 3 rows, first \"summarize\"", rows, first)
	}
}
