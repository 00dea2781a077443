package store

import (
	"os"
	"path/filepath"
	"testing"

	"gatewise/server/store/storetest"
)

func TestAllSharesSQLite(t *testing.T) {
	testAllShares(t, openStore(t, filepath.Join(t.TempDir(), "gatewise.db")))
}

func TestAllSharesPostgres(t *testing.T) {
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run the store suite on PostgreSQL")
	}
	testAllShares(t, openStore(t, storetest.Schema(t, base)))
}

// An administrator lists every link, each named by what it opens, and
// revokes any of them, whoever made it; an owner's scope sees and revokes
// only that owner's.
func testAllShares(t *testing.T, s *Store) {
	ctx := t.Context()
	alice, bob := AsOwner(ctx, "alice"), AsOwner(ctx, "bob")
	a := Architecture{Name: "Support bot", Spec: []byte("{}")}
	if err := s.CreateArchitecture(alice, &a); err != nil {
		t.Fatal(err)
	}
	b := Architecture{Name: "Search", Spec: []byte("{}")}
	if err := s.CreateArchitecture(bob, &b); err != nil {
		t.Fatal(err)
	}
	run := Run{ArchitectureID: a.ID, Options: []byte("{}")}
	if err := s.CreateRun(alice, &run); err != nil {
		t.Fatal(err)
	}
	archLink, err := s.CreateShare(alice, ShareArchitecture, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	runLink, err := s.CreateShare(alice, ShareRun, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	bobLink, err := s.CreateShare(bob, ShareArchitecture, b.ID)
	if err != nil {
		t.Fatal(err)
	}

	all, err := s.AllShares(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]SharedLink{}
	for _, l := range all {
		got[l.Token] = l
	}
	for _, want := range []SharedLink{
		{Share: archLink, Name: "Support bot"},
		{Share: runLink, Name: "Support bot"},
		{Share: bobLink, Name: "Search"},
	} {
		l, ok := got[want.Token]
		if !ok || l.Kind != want.Kind || l.TargetID != want.TargetID || l.Owner != want.Owner || l.Name != want.Name {
			t.Errorf("AllShares has %+v, want %+v", l, want)
		}
	}
	if len(all) != 3 {
		t.Errorf("AllShares lists %d links, want 3", len(all))
	}
	if mine, err := s.AllShares(bob); err != nil || len(mine) != 1 || mine[0].Token != bobLink.Token {
		t.Errorf("AllShares for bob = %+v, %v; want his one link", mine, err)
	}

	// Bob's scope cannot revoke alice's links; the administrator's can.
	if n, err := s.RevokeShares(bob, []string{archLink.Token, runLink.Token}); err != nil || n != 0 {
		t.Errorf("bob revoked %d of alice's links (%v)", n, err)
	}
	if n, err := s.RevokeShares(ctx, []string{archLink.Token, runLink.Token, "no-such-token"}); err != nil || n != 2 {
		t.Errorf("RevokeShares = %d, %v; want 2", n, err)
	}
	if left, err := s.AllShares(ctx); err != nil || len(left) != 1 || left[0].Token != bobLink.Token {
		t.Errorf("after revoking alice's links: %+v, %v", left, err)
	}
	// A link whose target was deleted is still listed, unnamed, so it can
	// be revoked.
	if err := s.DeleteArchitecture(bob, b.ID); err != nil {
		t.Fatal(err)
	}
	if left, err := s.AllShares(ctx); err != nil || len(left) != 1 || left[0].Name != "" {
		t.Errorf("a link to a deleted architecture: %+v, %v", left, err)
	}
}
