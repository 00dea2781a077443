package server

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Users are the people who may sign in to a team deployment, with their
// bcrypt password hashes. The file has one NAME:HASH per line; blank lines
// and lines starting with # are skipped. `gatewise hash-password` prints a
// hash for a password read from standard input.
type Users map[string][]byte

// userName is what a name may hold: it is shown on pages and kept as the
// owner of everything the user makes.
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ReadUsers parses a users file; name is used in messages.
func ReadUsers(r io.Reader, name string) (Users, error) {
	users := Users{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		user, hash, ok := strings.Cut(text, ":")
		switch {
		case !ok:
			return nil, fmt.Errorf("%s:%d: want NAME:BCRYPT_HASH", name, line)
		case !userName.MatchString(user):
			return nil, fmt.Errorf("%s:%d: user name %q: use letters, digits and . _ @ -, at most 64", name, line, user)
		case users[user] != nil:
			return nil, fmt.Errorf("%s:%d: user %q is listed twice", name, line, user)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("%s:%d: the hash of %q is not a bcrypt hash (make one with gatewise hash-password): %v", name, line, user, err)
		}
		users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", name, line+1, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users: add NAME:BCRYPT_HASH lines", name)
	}
	return users, nil
}

// HashPassword returns the bcrypt hash of a password for a users file.
func HashPassword(password string) (string, error) {
	if len(password) < 8 {
		return "", fmt.Errorf("the password is shorter than 8 characters")
	}
	if len(password) > 72 {
		return "", fmt.Errorf("the password is longer than 72 bytes, which bcrypt cannot use")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}
