package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"gatewise/pricing"
	"gatewise/server/store"
)

// The attack: a user removed from the users file was signed out, but the
// /s/ links they had made kept working. Once the server no longer knows
// the owner, each of their links, page and downloads, answers exactly as
// a link that never existed; a remaining user's links still work.
func TestShareLinksEndWithTheirOwner(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	alice, bob := signIn(t, h, "alice"), signIn(t, h, "bob")
	ctx := context.Background()
	link := func(session http.Header, owner string) string {
		t.Helper()
		id := create(t, withSession(h, session), loadExample(t, "single-provider"))
		wantStatus(t, do(t, h, "POST", "/architectures/"+id+"/shares", nil, session), http.StatusSeeOther)
		list, err := s.store.ListShares(store.AsOwner(ctx, owner), store.ShareArchitecture, id)
		if err != nil || len(list) != 1 {
			t.Fatalf("%s's links: %v, %v", owner, list, err)
		}
		return list[0].Token
	}
	aliceLink, bobLink := link(alice, "alice"), link(bob, "bob")
	wantStatus(t, do(t, h, "GET", "/s/"+aliceLink, nil, nil), http.StatusOK)

	// The server starts again with alice gone from the users file.
	cfg := s.cfg
	cfg.Users = Users{"bob": s.cfg.Users["bob"]}
	after, err := New(cfg, s.store, pricing.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h = after.Handler()
	unknown := do(t, h, "GET", "/s/no-such-link", nil, nil)
	wantStatus(t, unknown, http.StatusNotFound)
	for _, path := range []string{"", "/download"} {
		rec := do(t, h, "GET", "/s/"+aliceLink+path, nil, nil)
		wantStatus(t, rec, http.StatusNotFound)
		if path == "" && rec.Body.String() != unknown.Body.String() {
			t.Errorf("a removed user's link answers otherwise than an unknown one:\n%s", rec.Body.String())
		}
	}
	wantStatus(t, do(t, h, "GET", "/s/"+bobLink, nil, nil), http.StatusOK)
	wantStatus(t, do(t, h, "GET", "/s/"+bobLink+"/download", nil, nil), http.StatusOK)
}
