package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
)

// Sign-in for a team deployment. It is on when the configuration names
// users (GATEWISE_USERS) or an API token (GATEWISE_AUTH_TOKEN); then every
// page and endpoint but the sign-in page, /healthz, static files and share
// links needs a signed-in browser or the token, and each user sees only
// what they made. Without either, gatewise is a one-person tool on
// localhost and everything is open.
const (
	sessionCookie = "gatewise_session"
	sessionTTL    = 7 * 24 * time.Hour
	// APIUser is who the API token acts as. A user of that name in the
	// users file sees in the browser what the token made.
	APIUser = "api"
	// userKey is where the signed-in user is kept in gin's context.
	userKey = "gatewise.user"
)

// dummyHash is compared against when a name is unknown, so a wrong name
// takes as long as a wrong password and names cannot be probed by timing.
// It is a bcrypt hash at bcrypt.DefaultCost written out rather than made at
// start-up: hashing cost every gatewise command (ingest, check, version)
// 50 ms before it did anything.
var dummyHash = []byte("$2a$10$iLvFUgpYdUVY8vkPdzkB6OlBFqmlz0htSdw9VGUNSOtSDHyzDRcCG")

// authOn reports whether sign-in is required.
func (s *Server) authOn() bool { return len(s.cfg.Users) > 0 || s.cfg.AuthToken != "" }

// userOf returns the signed-in user of a request, "" when open or signed out.
func userOf(c *gin.Context) string { return c.GetString(userKey) }

// publicPath lists what needs no sign-in: the sign-in page itself, health
// checks, the CSS it uses, the icon browsers ask for, and share links (the
// token is the permission).
func publicPath(p string) bool {
	return p == "/signin" || p == "/healthz" || p == "/favicon.ico" || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/s/")
}

// authenticate finds who a request is from and scopes its context to them,
// or refuses it. With sign-in off it lets everything through unscoped.
func (s *Server) authenticate(c *gin.Context) {
	if !s.authOn() {
		c.Next()
		return
	}
	user, err := s.requestUser(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if user != "" {
		c.Set(userKey, user)
		c.Request = c.Request.WithContext(store.AsOwner(c.Request.Context(), user))
	}
	if user == "" && !publicPath(c.Request.URL.Path) {
		s.needSignIn(c)
		return
	}
	c.Next()
}

// requestUser reads the API token or the session cookie. Only a Bearer
// Authorization is the app's: another scheme (a proxy's Basic, say) is
// not ours to judge, so it neither signs in nor overrides a session.
func (s *Server) requestUser(c *gin.Context) (string, error) {
	if token, ok := bearerToken(c.GetHeader("Authorization")); ok {
		// A wrong token counts against the name the token acts as, from
		// this address: another address with the right token still gets in.
		addr := c.ClientIP()
		if wait := s.signins.wait(APIUser, addr); wait > 0 {
			return "", retryAfter(c, wait, "wrong API tokens from here")
		}
		if s.cfg.AuthToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AuthToken)) == 1 {
			s.signins.succeeded(APIUser, addr)
			return APIUser, nil
		}
		s.signins.failed(APIUser, addr)
		return "", &Error{Status: http.StatusUnauthorized, Message: "The API token is wrong: send Authorization: Bearer TOKEN with the token the server was started with."}
	}
	cookie, err := c.Cookie(sessionCookie)
	if err != nil || cookie == "" {
		return "", nil
	}
	user, err := s.store.SessionUser(c.Request.Context(), cookie)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !s.mayUse(user) {
		return "", nil // removed from the users file since signing in
	}
	return user, nil
}

// bearerToken is the token of a Bearer Authorization header (the scheme's
// name in any case, as HTTP allows), and whether the header is one.
func bearerToken(h string) (string, bool) {
	const scheme = "bearer "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return h[len(scheme):], true
}

// mayUse reports whether a user is still allowed in.
func (s *Server) mayUse(user string) bool {
	return s.cfg.Users[user] != nil || user == APIUser && s.cfg.AuthToken != ""
}

// needSignIn answers a request that has no user: 401 for the API, the
// sign-in page for a browser.
func (s *Server) needSignIn(c *gin.Context) {
	if wantsJSON(c.Request) {
		c.Header("WWW-Authenticate", `Bearer realm="gatewise"`)
		s.fail(c, newError(http.StatusUnauthorized, "Sign in first: send Authorization: Bearer TOKEN.", nil))
		return
	}
	next := c.Request.URL.Path
	if c.Request.Method != http.MethodGet {
		next = "/"
	}
	c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(next))
	c.Abort()
}

// SignInPage asks for a name and password.
type SignInPage struct {
	Layout
	Name    string
	Next    string
	Problem string
	// TokenOnly is set when no users file is configured: the API token,
	// under the name "api", is the only way in.
	TokenOnly bool
}

// safeNext keeps a redirect after sign-in on this site: a path of its
// own, or "/". Browsers drop tabs and newlines from a Location and read a
// backslash as "/", so "/<TAB>/evil.example" would leave the site: a path with a
// control character or a backslash is refused, as is one that parses with
// a host or a scheme.
func safeNext(next string) string {
	bad := func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.IndexFunc(next, bad) >= 0 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "//") || u.Path == "/signin" {
		return "/"
	}
	return next
}

func (s *Server) showSignIn(c *gin.Context) {
	if !s.authOn() || userOf(c) != "" {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	s.render(c, http.StatusOK, "signin", SignInPage{Layout: Layout{Title: "Sign in", Version: s.cfg.Version},
		Next: safeNext(c.Query("next")), TokenOnly: len(s.cfg.Users) == 0})
}

// signIn checks a name and password and starts a session. Failures are
// throttled per name and address, with a backoff per name that holds back
// only the addresses that failed (signInGuard).
func (s *Server) signIn(c *gin.Context) {
	if !s.authOn() {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, formReadError(err))
		return
	}
	name := strings.TrimSpace(c.Request.PostForm.Get("name"))
	password := c.Request.PostForm.Get("password")
	page := SignInPage{Layout: Layout{Title: "Sign in", Version: s.cfg.Version}, Name: name,
		Next: safeNext(c.Request.PostForm.Get("next")), TokenOnly: len(s.cfg.Users) == 0}
	addr := c.ClientIP()
	if wait := s.signins.wait(name, addr); wait > 0 {
		s.fail(c, retryAfter(c, wait, "failed sign-ins"))
		return
	}
	if !s.checkPassword(name, password) {
		s.signins.failed(name, addr)
		page.Problem = "That name and password do not match."
		s.render(c, http.StatusUnauthorized, "signin", page)
		return
	}
	s.signins.succeeded(name, addr)
	token, err := s.store.CreateSession(c.Request.Context(), name, sessionTTL)
	if err != nil {
		s.fail(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil || s.cfg.SecureCookies})
	s.log.InfoContext(c.Request.Context(), "signed in", "user", name)
	c.Redirect(http.StatusSeeOther, page.Next)
}

// checkPassword costs one bcrypt comparison for every name, known or not,
// the API token's included (compared in constant time besides): signing
// in as "api" took 1 ms against 88–299 ms for other names, which told the
// token's name apart.
func (s *Server) checkPassword(name, password string) bool {
	if hash := s.cfg.Users[name]; hash != nil {
		return s.compareHash(hash, []byte(password)) == nil
	}
	_ = s.compareHash(dummyHash, []byte(password))
	if name == APIUser && s.cfg.AuthToken != "" {
		return subtle.ConstantTimeCompare([]byte(password), []byte(s.cfg.AuthToken)) == 1
	}
	return false
}

// signOut ends the session.
func (s *Server) signOut(c *gin.Context) {
	if cookie, err := c.Cookie(sessionCookie); err == nil && cookie != "" {
		if err := s.store.DeleteSession(c.Request.Context(), cookie); err != nil {
			s.fail(c, err)
			return
		}
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil || s.cfg.SecureCookies})
	c.Redirect(http.StatusSeeOther, "/signin")
}

// SignInOn reports whether this server asks who its users are.
func (s *Server) SignInOn() bool { return s.authOn() }
