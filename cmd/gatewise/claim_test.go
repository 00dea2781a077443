package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gatewise/server/store"

	"golang.org/x/crypto/bcrypt"
)

// A team that used gatewise alone turns sign-in on and hands its earlier
// work to one user: a dry run counts, the claim moves the rows, and a name
// the users file lacks is refused before anything changes.
func TestClaim(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	st, err := store.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []context.Context{t.Context(), t.Context(), store.AsOwner(t.Context(), "bob")} {
		if err := st.CreateArchitecture(ctx, &store.Architecture{Name: "arch", Spec: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := writeFile(t, "users.txt", "alice:"+string(hash)+"\nbob:"+string(hash)+"\n")

	// With sign-in on, serve says the earlier work is waiting to be claimed.
	const unclaimed = "2 architectures, 0 runs and 0 uploads were made without sign-in"
	serving := map[string]string{"GATEWISE_ADDR": "127.0.0.1:0", "GATEWISE_DB": db, "GATEWISE_USERS": users, "GATEWISE_LOG_LEVEL": "warn"}
	if logs := serveLogs(t, serving); !strings.Contains(logs, unclaimed) {
		t.Errorf("serve with rows to claim logged:\n%s", logs)
	}

	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{args: []string{"claim", "-db", db}, code: 2, stderr: "-user: name the user"},
		{args: []string{"claim", "-db", db, "-user", "alcie", "-users", users}, code: 2, stderr: `-user: "alcie" is not in ` + users + " (it has alice, bob, and api for the API token)"},
		{args: []string{"claim", "-db", filepath.Join(t.TempDir(), "missing.db"), "-user", "alice"}, code: 2, stderr: "-db: no database at"},
		{args: []string{"claim", "-db", db, "-user", "alice", "-users", users, "-dry-run"}, stdout: "would give 2 rows to alice: 2 architectures, 0 uploads, 0 runs, 0 price files, 0 share links\n"},
		{args: []string{"claim", "-db", db, "-user", "alice", "-users", users}, stdout: "gave 2 rows to alice: 2 architectures, 0 uploads, 0 runs, 0 price files, 0 share links\n"},
		{args: []string{"claim", "-db", db, "-user", "api", "-users", users}, stdout: "gave 0 rows to api: 0 architectures, 0 uploads, 0 runs, 0 price files, 0 share links\n"},
	}
	for _, tc := range tests {
		stdout, stderr, code := runCmd(t, tc.args...)
		if code != tc.code || stdout != tc.stdout || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr containing %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}

	if logs := serveLogs(t, serving); strings.Contains(logs, "without sign-in") {
		t.Errorf("serve after the claim logged:\n%s", logs)
	}
	st, err = store.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for owner, want := range map[string]int{"alice": 2, "bob": 1, "": 0} {
		if as, err := st.ListArchitectures(store.AsOwner(t.Context(), owner), 0, 0); err != nil || len(as) != want {
			t.Errorf("%q has %d architectures (%v), want %d", owner, len(as), err, want)
		}
	}
}
