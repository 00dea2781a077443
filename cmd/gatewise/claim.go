package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"gatewise/server"
	"gatewise/server/store"
)

// claimCmd hands the rows made while gatewise ran without sign-in to one
// user. With sign-in on, rows that belong to no one are seen by nobody, so a
// team that started alone runs this once when it turns sign-in on.
func claimCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("claim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the user who gets the rows (required)")
	db := fs.String("db", envOr(getenv, "GATEWISE_DB", "gatewise.db"), "SQLite file path, or a postgres:// URL (env GATEWISE_DB)")
	users := fs.String("users", getenv("GATEWISE_USERS"), "users file; when given, the user must be in it (env GATEWISE_USERS)")
	dryRun := fs.Bool("dry-run", false, "count the rows without changing them")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: gatewise claim -user NAME [-db DSN] [-users FILE] [-dry-run]\n\n"+
			"Gives every architecture, upload, run, price file and share link made while\n"+
			"gatewise ran without sign-in to NAME, so it stays visible once sign-in is on.\n"+
			"To list or revoke share links, see gatewise shares.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("claim takes no arguments, got %q", fs.Args())}
	}
	if *user == "" {
		return &exitError{code: 2, err: errors.New("-user: name the user who gets the rows")}
	}
	if err := knownUser(*user, *users); err != nil {
		return &exitError{code: 2, err: err}
	}
	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	verb, c := "gave", store.Claimed{}
	if *dryRun {
		verb = "would give"
		c, err = st.Unowned(ctx)
	} else {
		c, err = st.ClaimUnowned(ctx, *user)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %d rows to %s: %d architectures, %d uploads, %d runs, %d price files, %d share links\n",
		verb, c.Total(), *user, c.Architectures, c.Uploads, c.Runs, c.PriceFiles, c.Shares)
	return nil
}

// knownUser checks name against the users file, when there is one: a typo
// would hand the rows to a user who can never sign in. The API token's
// user is always known.
func knownUser(name, usersPath string) error {
	if usersPath == "" || name == server.APIUser {
		return nil
	}
	users, err := readUsersFile(usersPath)
	if err != nil {
		return err
	}
	if _, ok := users[name]; ok {
		return nil
	}
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	slices.Sort(names)
	return fmt.Errorf("-user: %q is not in %s (it has %s, and %s for the API token)", name, usersPath, strings.Join(names, ", "), server.APIUser)
}

// envOr is getenv(key), or def when it is unset.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
