package main

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gatewise/server/store"
)

// A user leaves the team: their links stop working on the server, and an
// administrator finds them (they are the ones whose owner is not in the
// users file) and revokes them, or revokes one link by its token or URL.
func TestShares(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	st, err := store.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := func(owner, name string) store.Share {
		ctx := store.AsOwner(t.Context(), owner)
		a := store.Architecture{Name: name, Spec: []byte("{}")}
		if err := st.CreateArchitecture(ctx, &a); err != nil {
			t.Fatal(err)
		}
		sh, err := st.CreateShare(ctx, store.ShareArchitecture, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return sh
	}
	alice, bob, bob2 := link("alice", "Support bot"), link("bob", "Search"), link("bob", "Search v2")
	st.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := writeFile(t, "users.txt", "bob:"+string(hash)+"\n")

	out, errOut, code := runCmd(t, "shares", "list", "-db", db, "-users", users)
	if code != 0 || errOut != "" {
		t.Fatalf("list: exit %d, %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "TOKEN") || lines[4] != "3 links" {
		t.Fatalf("list printed:\n%s", out)
	}
	for _, want := range []struct {
		sh         store.Share
		name, mark string
	}{{alice, "Support bot", "alice (not in the users file)"}, {bob, "Search", "bob "}, {bob2, "Search v2", "bob "}} {
		var line string
		for _, l := range lines {
			if strings.HasPrefix(l, want.sh.Token+" ") {
				line = l
			}
		}
		for _, part := range []string{"architecture " + want.sh.TargetID, want.name, want.mark, want.sh.CreatedAt.Format("2006-01-02 15:04 UTC")} {
			if !strings.Contains(line, part) {
				t.Errorf("the line of %s's link lacks %q: %q", want.sh.Owner, part, line)
			}
		}
	}

	tests := []struct {
		args   []string
		code   int
		stdout string // a prefix, or the whole when it ends in a newline
		stderr string
	}{
		{args: []string{"shares"}, code: 2, stderr: "shares needs a subcommand: list or revoke"},
		{args: []string{"shares", "show"}, code: 2, stderr: `unknown shares subcommand "show"`},
		{args: []string{"shares", "list", "-db", filepath.Join(t.TempDir(), "missing.db")}, code: 2, stderr: "-db: no database at"},
		{args: []string{"shares", "list", "-db", db, "-orphaned"}, code: 2, stderr: "-orphaned: give the users file"},
		{args: []string{"shares", "list", "-db", db, "-users", filepath.Join(t.TempDir(), "none.txt")}, code: 2, stderr: "-users: open "},
		{args: []string{"shares", "revoke", "-db", db}, code: 2, stderr: "name the links one way"},
		{args: []string{"shares", "revoke", "-db", db, "-user", "bob", alice.Token}, code: 2, stderr: "name the links one way"},
		{args: []string{"shares", "list", "-db", db, "-user", "bob"}, stdout: "TOKEN"},
		{args: []string{"shares", "revoke", "-db", db, "-users", users, "-orphaned", "-dry-run"}, stdout: "TOKEN"},
		{args: []string{"shares", "revoke", "-db", db, "-users", users, "-orphaned"}, stdout: "revoked 1 link\n"},
		{args: []string{"shares", "revoke", "-db", db, "-users", users, "-orphaned"}, stdout: "revoked 0 links\n"},
		{args: []string{"shares", "revoke", "-db", db, "https://gatewise.example/s/" + bob.Token + "/memo.md", "not-a-token"}, code: 1, stdout: "revoked 1 link\n", stderr: "no link has the token not-a-token"},
		{args: []string{"shares", "revoke", "-db", db, "-user", "bob"}, stdout: "revoked 1 link\n"},
		{args: []string{"shares", "list", "-db", db}, stdout: "0 links\n"},
	}
	for _, tc := range tests {
		stdout, stderr, code := runCmd(t, tc.args...)
		okOut := strings.HasPrefix(stdout, tc.stdout)
		if strings.HasSuffix(tc.stdout, "\n") {
			okOut = stdout == tc.stdout
		}
		if code != tc.code || !okOut || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr containing %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
		if strings.Contains(strings.Join(tc.args, " "), "-dry-run") && (!strings.Contains(stdout, alice.Token) || strings.Contains(stdout, bob.Token) || !strings.HasSuffix(stdout, "would revoke 1 link\n")) {
			t.Errorf("the dry run lists:\n%s", stdout)
		}
	}
}
