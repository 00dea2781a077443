package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"gatewise/server"
	"gatewise/server/store"
)

const sharesUsage = `Usage:
  gatewise shares list [-db DSN] [-users FILE] [-user NAME] [-orphaned]
  gatewise shares revoke [-db DSN] [-users FILE] [-dry-run] TOKEN|URL...
  gatewise shares revoke [-db DSN] [-users FILE] [-dry-run] -user NAME
  gatewise shares revoke [-db DSN] [-users FILE] [-dry-run] -orphaned

Lists and revokes the read-only links (/s/TOKEN) users made, whoever made
them. A link works while its owner is in the users file; -orphaned picks
the links whose owner is not (they answer 404, and would work again were
the owner added back). With the users file, list marks those links.
`

// sharesCmd is the administrator's view of share links: each owner sees
// and revokes their own on the pages, but nobody could reach the links of
// a user who had left.
func sharesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sharesUsage)
		return &exitError{code: 2, err: errors.New("shares needs a subcommand: list or revoke")}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list", "revoke":
		return sharesRun(ctx, sub, args, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, sharesUsage)
		return nil
	}
	fmt.Fprint(stderr, sharesUsage)
	return &exitError{code: 2, err: fmt.Errorf("unknown shares subcommand %q (want list or revoke)", sub)}
}

// sharesRun reads the flags of list or revoke, opens the database and
// does it.
func sharesRun(ctx context.Context, sub string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shares "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", envOr(getenv, "GATEWISE_DB", "gatewise.db"), "SQLite file path, or a postgres:// URL (env GATEWISE_DB)")
	usersPath := fs.String("users", getenv("GATEWISE_USERS"), "the server's users file, to tell which owners are gone (env GATEWISE_USERS)")
	user := fs.String("user", "", "only the links of this user")
	orphaned := fs.Bool("orphaned", false, "only the links whose owner is not in the users file")
	dryRun := new(bool)
	if sub == "revoke" {
		fs.BoolVar(dryRun, "dry-run", false, "list the links that would be revoked, and revoke none")
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, sharesUsage+"\n")
		fs.PrintDefaults()
	}
	tokens, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if sub == "list" && len(tokens) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("shares list takes no arguments, got %q", tokens)}
	}
	if sub == "revoke" {
		picked := 0
		for _, p := range []bool{len(tokens) > 0, *user != "", *orphaned} {
			if p {
				picked++
			}
		}
		if picked != 1 {
			return &exitError{code: 2, err: errors.New("shares revoke: name the links one way: tokens (or links), -user NAME, or -orphaned")}
		}
	}
	known, err := ownersKnown(*usersPath, getenv("GATEWISE_AUTH_TOKEN") != "")
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if *orphaned && known == nil {
		return &exitError{code: 2, err: errors.New("-orphaned: give the users file with -users FILE (or GATEWISE_USERS), which tells who is gone")}
	}

	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	scope := store.Unscoped(ctx)
	if *user != "" {
		scope = store.AsOwner(ctx, *user)
	}
	links, err := st.AllShares(scope)
	if err != nil {
		return err
	}
	if *orphaned {
		kept := links[:0]
		for _, l := range links {
			if !known(l.Owner) {
				kept = append(kept, l)
			}
		}
		links = kept
	}

	var missing []string
	if len(tokens) > 0 {
		byToken := map[string]store.SharedLink{}
		for _, l := range links {
			byToken[l.Token] = l
		}
		links = links[:0]
		for _, t := range tokens {
			t = linkToken(t)
			if l, ok := byToken[t]; ok {
				links = append(links, l)
				delete(byToken, t) // named twice, revoked once
			} else if !containsToken(links, t) {
				missing = append(missing, t)
			}
		}
	}

	gone := func(owner string) string {
		if known != nil && !known(owner) {
			return " (not in the users file)"
		}
		return ""
	}
	if sub == "list" || *dryRun {
		writeLinks(stdout, links, gone)
	}
	if sub == "list" {
		fmt.Fprintf(stdout, "%s\n", plural(len(links), "link"))
		return nil
	}
	verb, n := "would revoke", int64(len(links))
	if !*dryRun {
		verb = "revoked"
		ids := make([]string, len(links))
		for i, l := range links {
			ids[i] = l.Token
		}
		if n, err = st.RevokeShares(scope, ids); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s %s\n", verb, plural(int(n), "link"))
	if len(missing) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("no link has the token %s", strings.Join(missing, ", "))}
	}
	return nil
}

// writeLinks prints one link a line: its token, what it opens, its owner
// (marked when gone) and when it was made.
func writeLinks(w io.Writer, links []store.SharedLink, gone func(string) string) {
	if len(links) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOKEN\tOPENS\tNAME\tOWNER\tMADE")
	for _, l := range links {
		name, owner := l.Name, l.Owner
		if name == "" {
			name = "(deleted)"
		}
		if owner == "" {
			owner = "(no one)"
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s%s\t%s\n", l.Token, l.Kind, l.TargetID, name, owner, gone(l.Owner), l.CreatedAt.Format("2006-01-02 15:04 UTC"))
	}
	tw.Flush()
}

// linkToken takes a token or a whole link (https://host/s/TOKEN/memo.md)
// as the owner's page shows it.
func linkToken(s string) string {
	if _, rest, ok := strings.Cut(s, "/s/"); ok {
		s, _, _ = strings.Cut(rest, "/")
	}
	return strings.TrimSpace(s)
}

func containsToken(links []store.SharedLink, token string) bool {
	for _, l := range links {
		if l.Token == token {
			return true
		}
	}
	return false
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ownersKnown reads the users file into the test the server applies to a
// link's owner: in the file, or the API token's user while there is a
// token. Without a file it returns nil: nobody can tell who is gone.
func ownersKnown(usersPath string, hasToken bool) (func(string) bool, error) {
	if usersPath == "" {
		return nil, nil
	}
	users, err := readUsersFile(usersPath)
	if err != nil {
		return nil, err
	}
	return func(owner string) bool {
		return users[owner] != nil || owner == server.APIUser && hasToken
	}, nil
}

// readUsersFile reads a users file as the server does.
func readUsersFile(path string) (server.Users, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-users: %w", err)
	}
	defer f.Close()
	return server.ReadUsers(f, path)
}

// openExisting opens the database of a running deployment, refusing to
// create a SQLite file where none is (a mistyped path would otherwise
// answer "no links" from an empty new database).
func openExisting(ctx context.Context, dsn string, stderr io.Writer) (*store.Store, error) {
	path, err := store.SQLiteFile(dsn)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("-db: %w", err)}
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, &exitError{code: 2, err: fmt.Errorf("-db: no database at %s (%w)", path, err)}
		}
	}
	return store.Open(ctx, dsn, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}
