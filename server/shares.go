package server

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
)

// Read-only share links. On a team deployment everything belongs to the
// user who made it; the owner of a run or architecture can make a link
// (/s/TOKEN, 256 random bits) that shows it, its memo and its downloads to
// anyone who has the link, signed in or not, until the owner revokes it
// or leaves the users file (`gatewise shares` lists and revokes any link).

// shareKey is where gin's context holds the share a request came through.
const shareKey = "gatewise.share"

// ShareView is a live link on its owner's page.
type ShareView struct {
	URL       string
	Token     string
	CreatedAt time.Time
}

// sharedVia returns the share a request came through, if any.
func sharedVia(c *gin.Context) (store.Share, bool) {
	v, ok := c.Get(shareKey)
	if !ok {
		return store.Share{}, false
	}
	sh, ok := v.(store.Share)
	return sh, ok
}

// shareViews lists the links to a target for its owner's page, with full
// URLs to copy.
func (s *Server) shareViews(c *gin.Context, kind, id string) ([]ShareView, error) {
	if userOf(c) == "" {
		return nil, nil // without sign-in everything is open; links add nothing
	}
	list, err := s.store.ListShares(c.Request.Context(), kind, id)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if c.Request.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	out := make([]ShareView, len(list))
	for i, sh := range list {
		out[i] = ShareView{URL: scheme + "://" + c.Request.Host + "/s/" + sh.Token, Token: sh.Token, CreatedAt: sh.CreatedAt}
	}
	return out, nil
}

// createShare makes a read-only link to the run or architecture in the URL.
func (s *Server) createShare(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, err := s.store.CreateShare(c.Request.Context(), kind, c.Param("id")); err != nil {
			s.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/"+kind+"s/"+c.Param("id")+"#share")
	}
}

// revokeShare ends a link; the page it was on is shown again.
func (s *Server) revokeShare(c *gin.Context) {
	sh, err := s.store.RevokeShare(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/"+sh.Kind+"s/"+sh.TargetID+"#share")
}

// openShare resolves /s/TOKEN: the request then reads as the target's
// owner, with the target's id as its :id, and pages know to be read-only.
// Only the kinds given are served on this path.
func (s *Server) openShare(c *gin.Context, kinds ...string) (store.Share, bool) {
	ctx := store.Unscoped(c.Request.Context())
	sh, err := s.store.Share(ctx, c.Param("token"))
	if err == nil && !slices.Contains(kinds, sh.Kind) {
		err = store.ErrNotFound
	}
	// A link lasts no longer than its owner's access: once the owner is
	// out of the users file, it answers like an unknown link.
	if err == nil && s.authOn() && !s.mayUse(sh.Owner) {
		err = store.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return sh, false
	}
	c.Set(shareKey, sh)
	c.Params = append(c.Params, gin.Param{Key: "id", Value: sh.TargetID})
	c.Request = c.Request.WithContext(store.AsOwner(ctx, sh.Owner))
	return sh, true
}

// showShared is the page a share link opens.
func (s *Server) showShared(c *gin.Context) {
	sh, ok := s.openShare(c, store.ShareRun, store.ShareArchitecture)
	if !ok {
		return
	}
	c.Header("Referrer-Policy", "no-referrer") // the URL is the secret
	if sh.Kind == store.ShareRun {
		s.showRun(c)
		return
	}
	s.showArchitecture(c)
}

// shared serves one of a shared target's downloads.
func (s *Server) shared(kind string, h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := s.openShare(c, kind); ok {
			h(c)
		}
	}
}
