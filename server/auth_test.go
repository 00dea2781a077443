package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gatewise/pricing"
	"gatewise/server/store"
)

const testToken = "token-for-the-api-0123456789"

// newAuthServer is a test server with sign-in on: users alice and bob
// (passwords "alice-password", "bob-password") and the API token.
func newAuthServer(t *testing.T, tweak func(*Config)) (*Server, http.Handler) {
	t.Helper()
	users := Users{}
	for _, u := range []string{"alice", "bob"} {
		h, err := bcrypt.GenerateFromPassword([]byte(u+"-password"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users[u] = h
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := Config{Version: "test", Users: users, AuthToken: testToken, UploadDir: t.TempDir()}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(cfg, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Handler()
}

// signIn signs a user in and returns the session cookie header.
func signIn(t *testing.T, h http.Handler, name string) http.Header {
	t.Helper()
	rec := postForm(t, h, "/signin", url.Values{"name": {name}, "password": {name + "-password"}, "next": {"/runs"}})
	wantStatus(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != "/runs" {
		t.Fatalf("signed in to %q, want /runs", loc)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookie {
		t.Fatalf("cookies %v", cookies)
	}
	return http.Header{"Cookie": {cookies[0].Name + "=" + cookies[0].Value}}
}

// as adds a user's session to a header (which may be nil).
func as(session http.Header, h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		out[k] = v
	}
	out["Cookie"] = session["Cookie"]
	return out
}

func TestReadUsers(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-password"), bcrypt.MinCost)
	good := "# team\n\nalice:" + string(hash) + "\n bob.smith@example.com:" + string(hash) + "\n"
	users, err := ReadUsers(strings.NewReader(good), "users.txt")
	if err != nil || len(users) != 2 || users["bob.smith@example.com"] == nil {
		t.Fatalf("ReadUsers = %v, %v", users, err)
	}
	for in, want := range map[string]string{
		"alice": "users.txt:1: want NAME:BCRYPT_HASH",
		"alice:" + string(hash) + "\nalice:" + string(hash): "users.txt:2: user \"alice\" is listed twice",
		"al ice:" + string(hash):                            "users.txt:1: user name \"al ice\"",
		"# only\nalice:plaintext":                           "users.txt:2: the hash of \"alice\" is not a bcrypt hash",
		"# nobody":                                          "users.txt: no users",
	} {
		if _, err := ReadUsers(strings.NewReader(in), "users.txt"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadUsers(%q) = %v, want %q", in, err, want)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was hashed")
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	_, h := newAuthServer(t, nil)

	// Signed out: pages send to the sign-in page, the API answers 401;
	// health, static files, the icon and the sign-in page itself stay open.
	rec := do(t, h, "GET", "/architectures?page=2", nil, nil)
	wantStatus(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != "/signin?next=%2Farchitectures" {
		t.Errorf("redirect to %q", loc)
	}
	rec = do(t, h, "GET", "/api/v1/runs/abc", nil, nil)
	wantStatus(t, rec, http.StatusUnauthorized)
	wantBody(t, rec, `{"error":{"message":"Sign in first`)
	if rec.Header().Get("WWW-Authenticate") != `Bearer realm="gatewise"` {
		t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
	}
	wantStatus(t, do(t, h, "GET", "/healthz", nil, nil), http.StatusOK)
	wantStatus(t, do(t, h, "GET", "/favicon.ico", nil, nil), http.StatusOK) // a shared memo's tab asks for it
	page := do(t, h, "GET", "/signin?next=/runs", nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `name="password"`, `value="/runs"`)
	css := regexp.MustCompile(`/static/[^"]+app\.css`).FindString(page.Body.String())
	wantStatus(t, do(t, h, "GET", css, nil, nil), http.StatusOK)

	// A wrong password is refused the same way as an unknown name.
	rec = postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"nope"}})
	wantStatus(t, rec, http.StatusUnauthorized)
	wantBody(t, rec, "That name and password do not match.", `value="alice"`)

	// The session cookie: HttpOnly, SameSite=Lax, not Secure over plain HTTP.
	rec = postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}, "next": {"//evil.example/"}})
	wantStatus(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != "/" {
		t.Errorf("an off-site next was followed: %q", loc)
	}
	c := rec.Result().Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || c.MaxAge != int(sessionTTL.Seconds()) {
		t.Errorf("session cookie %+v", c)
	}
	session := http.Header{"Cookie": {c.Name + "=" + c.Value}}
	home := do(t, h, "GET", "/", nil, session)
	wantStatus(t, home, http.StatusOK)
	wantBody(t, home, "alice", `action="/signout"`)

	// Signing out ends the session.
	wantStatus(t, do(t, h, "POST", "/signout", nil, session), http.StatusSeeOther)
	wantStatus(t, do(t, h, "GET", "/", nil, session), http.StatusSeeOther)

	// The API token: right, wrong.
	ok := do(t, h, "GET", "/api/v1/architectures/nope", nil, http.Header{"Authorization": {"Bearer " + testToken}})
	wantStatus(t, ok, http.StatusNotFound)
	wantStatus(t, do(t, h, "GET", "/api/v1/architectures/nope", nil, http.Header{"Authorization": {"Bearer wrong"}}), http.StatusUnauthorized)
}

func TestSecureCookieBehindTLS(t *testing.T) {
	t.Parallel()
	_, h := newAuthServer(t, func(c *Config) { c.SecureCookies = true })
	rec := postForm(t, h, "/signin", url.Values{"name": {"bob"}, "password": {"bob-password"}})
	if c := rec.Result().Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookies %+v, want one Secure", c)
	}
	// And under TLS here without the setting.
	_, h = newAuthServer(t, nil)
	req := httptest.NewRequest("POST", "https://gatewise.example/signin", strings.NewReader(url.Values{"name": {"bob"}, "password": {"bob-password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tls := httptest.NewRecorder()
	h.ServeHTTP(tls, req)
	if c := tls.Result().Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookies under TLS %+v, want one Secure", c)
	}
}

// Five failed sign-ins a minute per address (and per name); then 429 with
// Retry-After, even for the right password.
func TestSignInIsRateLimited(t *testing.T) {
	t.Parallel()
	_, h := newAuthServer(t, nil)
	for i := range 5 {
		rec := postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"guess"}})
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, rec.Code)
		}
	}
	rec := postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}})
	wantStatus(t, rec, http.StatusTooManyRequests)
	wantBody(t, rec, "Too many failed sign-ins")
	if ra := rec.Header().Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	// Wrong API tokens count the same way.
	for range 6 {
		rec = do(t, h, "GET", "/api/v1/architectures/x", nil, http.Header{"Authorization": {"Bearer wrong"}})
	}
	wantStatus(t, rec, http.StatusTooManyRequests)
}

// Runs and uploads are limited per client: a signed-in user's own bucket.
func TestRunsAreRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	_, h := newAuthServer(t, func(c *Config) { c.RunsPerMinute = 2 })
	alice, bob := signIn(t, h, "alice"), signIn(t, h, "bob")
	id := create(t, withSession(h, alice), loadExample(t, "single-provider"))
	for range 2 {
		wantStatus(t, do(t, h, "POST", "/architectures/"+id+"/runs", strings.NewReader("trials=10"), as(alice, formHeader)), http.StatusSeeOther)
	}
	rec := do(t, h, "POST", "/architectures/"+id+"/runs", strings.NewReader("trials=10"), as(alice, formHeader))
	wantStatus(t, rec, http.StatusTooManyRequests)
	if rec.Header().Get("Retry-After") != "30" {
		t.Errorf("Retry-After = %q, want 30 (two a minute)", rec.Header().Get("Retry-After"))
	}
	// Bob's bucket is his own (his 404 is ownership, not the limit).
	wantStatus(t, do(t, h, "POST", "/architectures/"+id+"/runs", strings.NewReader("trials=10"), as(bob, formHeader)), http.StatusNotFound)
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// withSession is a handler that adds a session to every request, for
// helpers that do not take headers.
func withSession(h http.Handler, session http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header["Cookie"] = session["Cookie"]
		h.ServeHTTP(w, r)
	})
}

// The open redirect an outside attack found: a signed-in GET of
// /signin?next=/%09/evil.example/x answered 303 to "/<TAB>/evil.example/x",
// which a browser follows to evil.example once it drops the tab. Only a
// path of this site survives; anything a browser could read as another
// host becomes "/".
func TestSignInNextStaysOnSite(t *testing.T) {
	t.Parallel()
	_, h := newAuthServer(t, nil)
	rec := postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}})
	c := rec.Result().Cookies()[0]
	session := http.Header{"Cookie": {c.Name + "=" + c.Value}}
	for next, want := range map[string]string{
		"/%09/evil.example/x":    "/",
		"/%0a/evil.example":      "/",
		"/%0d%0a/evil.example":   "/",
		"/%5C/evil.example":      "/",
		"/%5Cevil.example":       "/",
		"%2F%2Fevil.example":     "/",
		"https://evil.example/":  "/",
		"/%7F/evil.example":      "/",
		"/runs?page=2":           "/runs?page=2",
		"/architectures/abc/run": "/architectures/abc/run",
	} {
		rec := do(t, h, "GET", "/signin?next="+next, nil, session)
		wantStatus(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != want {
			t.Errorf("next=%s: redirect to %q, want %q", next, loc, want)
		}
		// The same after signing in with the form.
		rec = postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}, "next": {mustUnescape(t, next)}})
		if loc := rec.Header().Get("Location"); loc != want {
			t.Errorf("signing in with next=%s: redirect to %q, want %q", next, loc, want)
		}
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Signing in as the API token's name took about 1 ms, other names 88–299
// ms: the time told "api" apart. Every name, known or not, right or
// wrong, now costs exactly one bcrypt comparison (counted here, not
// timed).
func TestEverySignInCostsOneBcrypt(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	var calls int
	compare := s.compareHash
	s.compareHash = func(hash, password []byte) error { calls++; return compare(hash, password) }
	for _, try := range []struct{ name, password string }{
		{"alice", "alice-password"}, {"alice", "wrong"}, {"nobody", "wrong"},
		{APIUser, testToken}, {APIUser, "wrong"},
	} {
		calls = 0
		postForm(t, h, "/signin", url.Values{"name": {try.name}, "password": {try.password}})
		if calls != 1 {
			t.Errorf("signing in as %s made %d bcrypt comparisons, want 1", try.name, calls)
		}
	}
}

// Any Authorization header, a proxy's Basic say, overrode a valid session
// cookie and answered 401. Only a Bearer token is the app's: another
// scheme leaves the session as it is (and signs nobody in); a wrong
// Bearer token is still refused, and the scheme's name is read in any
// case.
func TestSessionWinsOverAnUnaskedAuthorization(t *testing.T) {
	t.Parallel()
	_, h := newAuthServer(t, nil)
	rec := postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}})
	c := rec.Result().Cookies()[0]
	cookie := c.Name + "=" + c.Value
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("proxy:secret"))
	page := do(t, h, "GET", "/", nil, http.Header{"Cookie": {cookie}, "Authorization": {basic}})
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "alice")
	wantStatus(t, do(t, h, "GET", "/api/v1/architectures/nope", nil, http.Header{"Authorization": {basic}}), http.StatusUnauthorized)
	wantStatus(t, do(t, h, "GET", "/api/v1/architectures/nope", nil, http.Header{"Cookie": {cookie}, "Authorization": {"Bearer wrong"}}), http.StatusUnauthorized)
	wantStatus(t, do(t, h, "GET", "/api/v1/architectures/nope", nil, http.Header{"Authorization": {"bearer " + testToken}}), http.StatusNotFound)
}

// from is a handler that makes every request come from addr, the way a
// connection's address reaches the server.
func from(h http.Handler, addr string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = addr
		h.ServeHTTP(w, r)
	})
}

// testClock is a clock a test moves by hand.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time          { return c.t }
func (c *testClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// The attack: five wrong passwords for alice, from one address, locked
// her out from every address (429 for her right password). Now the
// failures hold back the address that made them: alice signs in from
// another one at once, and the guessing address waits out the name's
// backoff (a minute after five failures), right password or not.
func TestSignInLockoutIsNoWeapon(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	clock := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	s.signins.now = clock.now
	attacker, alice := from(h, "198.51.100.7:40000"), from(h, "203.0.113.9:50000")
	for i := range 5 {
		rec := postForm(t, attacker, "/signin", url.Values{"name": {"alice"}, "password": {fmt.Sprintf("guess-%d", i)}})
		wantStatus(t, rec, http.StatusUnauthorized)
	}
	rec := postForm(t, alice, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}})
	wantStatus(t, rec, http.StatusSeeOther)
	if len(rec.Result().Cookies()) != 1 {
		t.Fatalf("alice from her own address got no session: %v", rec.Result().Cookies())
	}
	// Her signing in does not end the attacker's wait.
	for _, wait := range []struct {
		after      time.Duration
		status     int
		retryAfter string
	}{
		{0, http.StatusTooManyRequests, "60"},
		{30 * time.Second, http.StatusTooManyRequests, "30"}, // the pair's count has drained; the backoff holds
		{31 * time.Second, http.StatusSeeOther, ""},
	} {
		clock.advance(wait.after)
		rec := postForm(t, attacker, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}})
		wantStatus(t, rec, wait.status)
		if got := rec.Header().Get("Retry-After"); got != wait.retryAfter {
			t.Errorf("%v on: Retry-After %q, want %q", wait.after, got, wait.retryAfter)
		}
	}
	// Bob, from the attacker's address, is not held back by alice's backoff.
	wantStatus(t, postForm(t, attacker, "/signin", url.Values{"name": {"bob"}, "password": {"bob-password"}}), http.StatusSeeOther)
}

// Each failure past the fifth doubles the name's backoff, for every
// address that failed; an address that keeps to itself is not held back.
func TestSignInBackoffDoubles(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	clock := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	s.signins.now = clock.now
	a, b, c := from(h, "198.51.100.7:1"), from(h, "198.51.100.8:1"), from(h, "[2001:db8:1:2::7]:1")
	for range 5 {
		wantStatus(t, postForm(t, a, "/signin", url.Values{"name": {"alice"}, "password": {"wrong"}}), http.StatusUnauthorized)
	}
	// A sixth failure, from another address: two minutes now.
	wantStatus(t, postForm(t, b, "/signin", url.Values{"name": {"Alice"}, "password": {"wrong"}}), http.StatusUnauthorized)
	for _, h := range []http.Handler{a, b} {
		rec := postForm(t, h, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}})
		wantStatus(t, rec, http.StatusTooManyRequests)
		if got := rec.Header().Get("Retry-After"); got != "120" {
			t.Errorf("Retry-After %q, want 120", got)
		}
	}
	wantStatus(t, postForm(t, c, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}}), http.StatusSeeOther)
	// Hopping within an IPv6 /64 is the same address.
	for range 5 {
		postForm(t, from(h, "[2001:db8:9:9::1]:1"), "/signin", url.Values{"name": {"bob"}, "password": {"wrong"}})
	}
	wantStatus(t, postForm(t, from(h, "[2001:db8:9:9::abcd]:1"), "/signin", url.Values{"name": {"bob"}, "password": {"bob-password"}}), http.StatusTooManyRequests)
	clock.advance(2 * time.Minute)
	wantStatus(t, postForm(t, a, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}}), http.StatusSeeOther)
}

// One address cannot spray guesses over many names: ten failures at once,
// whatever the names, then it waits; other addresses do not.
func TestSignInSprayIsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	clock := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	s.signins.now = clock.now
	spray := from(h, "198.51.100.7:1")
	for i := range 10 {
		wantStatus(t, postForm(t, spray, "/signin", url.Values{"name": {fmt.Sprintf("user%d", i)}, "password": {"wrong"}}), http.StatusUnauthorized)
	}
	rec := postForm(t, spray, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}})
	wantStatus(t, rec, http.StatusTooManyRequests)
	if got := rec.Header().Get("Retry-After"); got != "12" {
		t.Errorf("Retry-After %q, want 12 (five failures a minute drain)", got)
	}
	wantStatus(t, postForm(t, from(h, "198.51.100.8:1"), "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}}), http.StatusSeeOther)
	clock.advance(12 * time.Second)
	wantStatus(t, postForm(t, spray, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}}), http.StatusSeeOther)
}

// Wrong API tokens likewise: they hold back the address that sent them,
// not the token.
func TestWrongTokensAreNoWeapon(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	clock := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	s.signins.now = clock.now
	attacker, ci := from(h, "198.51.100.7:1"), from(h, "203.0.113.9:1")
	bearer := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }
	for range 5 {
		wantStatus(t, do(t, attacker, "GET", "/api/v1/architectures/x", nil, bearer("wrong")), http.StatusUnauthorized)
	}
	wantStatus(t, do(t, ci, "GET", "/api/v1/architectures/x", nil, bearer(testToken)), http.StatusNotFound) // signed in: no such architecture
	rec := do(t, attacker, "GET", "/api/v1/architectures/x", nil, bearer(testToken))
	wantStatus(t, rec, http.StatusTooManyRequests)
	wantBody(t, rec, "Too many wrong API tokens")
	if got := rec.Header().Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After %q, want 60", got)
	}
	clock.advance(time.Minute)
	wantStatus(t, do(t, attacker, "GET", "/api/v1/architectures/x", nil, bearer(testToken)), http.StatusNotFound)
}
