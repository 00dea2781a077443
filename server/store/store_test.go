package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatewise/server/store/storetest"
)

// The store suite runs on every database gatewise supports. SQLite always
// runs; PostgreSQL runs when GATEWISE_TEST_POSTGRES names a server, each
// test in a schema of its own.

func TestStoreSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "gatewise.db")
	})
}

func TestStorePostgres(t *testing.T) {
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run the store suite on PostgreSQL")
	}
	runSuite(t, func(t *testing.T) string { return storetest.Schema(t, base) })
}

func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable DSN)"
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openStore opens dsn and closes the store when the test ends.
func openStore(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, quietLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runSuite checks the Store contract against the database that fresh
// provides; fresh returns the DSN of a new, empty database on every call.
func runSuite(t *testing.T, fresh func(t *testing.T) string) {
	t.Run("RunLifecycle", func(t *testing.T) { testRunLifecycle(t, openStore(t, fresh(t))) })
	t.Run("Uploads", func(t *testing.T) { testUploads(t, openStore(t, fresh(t))) })
	t.Run("PriceFiles", func(t *testing.T) { testPriceFiles(t, openStore(t, fresh(t))) })
	t.Run("Ownership", func(t *testing.T) { testOwnership(t, openStore(t, fresh(t))) })
	t.Run("SessionsAndShares", func(t *testing.T) { testSessionsAndShares(t, openStore(t, fresh(t))) })
	t.Run("ClaimUnowned", func(t *testing.T) { testClaimUnowned(t, openStore(t, fresh(t))) })
	t.Run("OpenMigratesToLatest", func(t *testing.T) {
		s := openStore(t, fresh(t))
		v, err := s.SchemaVersion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if v != len(migrations()) {
			t.Fatalf("SchemaVersion = %d, want %d", v, len(migrations()))
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if k := s.Kind(); k != KindSQLite && k != KindPostgres {
			t.Fatalf("Kind = %q", k)
		}
	})

	t.Run("CreateAndGet", func(t *testing.T) {
		ctx := t.Context()
		s := openStore(t, fresh(t))
		before := time.Now()
		a := Architecture{ID: "ignored", Name: "5 providers, 3 regions", Spec: []byte(`{"providers":[{"name":"openai"}]}`)}
		if err := s.CreateArchitecture(ctx, &a); err != nil {
			t.Fatal(err)
		}
		idPattern := regexp.MustCompile(`^[a-z2-7]{12}$`)
		if !idPattern.MatchString(a.ID) {
			t.Fatalf("ID %q does not match %s", a.ID, idPattern)
		}
		if a.CreatedAt.IsZero() || !a.CreatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("CreatedAt %v, UpdatedAt %v: want equal and set", a.CreatedAt, a.UpdatedAt)
		}
		if a.CreatedAt.Before(before.Add(-time.Second)) || a.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("CreatedAt %v is not about now", a.CreatedAt)
		}
		got, err := s.Architecture(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		assertSame(t, got, a)
	})

	t.Run("TimestampsRoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s := openStore(t, fresh(t))
		a := Architecture{Name: "t", Spec: []byte(`{}`)}
		if err := s.CreateArchitecture(ctx, &a); err != nil {
			t.Fatal(err)
		}
		if a.CreatedAt.Location() != time.UTC || a.CreatedAt.Nanosecond()%1000 != 0 {
			t.Fatalf("CreatedAt %v: want UTC, whole microseconds", a.CreatedAt)
		}
		got, err := s.Architecture(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		// == rather than Equal: the same instant, location and precision.
		if got.CreatedAt != a.CreatedAt || got.UpdatedAt != a.UpdatedAt {
			t.Fatalf("read back %v / %v, wrote %v / %v", got.CreatedAt, got.UpdatedAt, a.CreatedAt, a.UpdatedAt)
		}
		list, err := s.ListArchitectures(ctx, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].CreatedAt != a.CreatedAt {
			t.Fatalf("list = %+v, want CreatedAt %v", list, a.CreatedAt)
		}
	})

	t.Run("Update", func(t *testing.T) {
		ctx := t.Context()
		s := openStore(t, fresh(t))
		a := Architecture{Name: "before", Spec: []byte(`{"v":1}`)}
		if err := s.CreateArchitecture(ctx, &a); err != nil {
			t.Fatal(err)
		}
		created := a.CreatedAt
		time.Sleep(2 * time.Millisecond) // make the bump visible
		a.Name, a.Spec = "after", []byte(`{"v":2}`)
		if err := s.UpdateArchitecture(ctx, &a); err != nil {
			t.Fatal(err)
		}
		if !a.UpdatedAt.After(created) {
			t.Fatalf("UpdatedAt %v not after CreatedAt %v", a.UpdatedAt, created)
		}
		got, err := s.Architecture(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		assertSame(t, got, a)
		if got.CreatedAt != created {
			t.Fatalf("CreatedAt changed from %v to %v", created, got.CreatedAt)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := t.Context()
		s := openStore(t, fresh(t))
		a := Architecture{Name: "doomed", Spec: []byte(`{}`)}
		keep := Architecture{Name: "kept", Spec: []byte(`{}`)}
		for _, x := range []*Architecture{&a, &keep} {
			if err := s.CreateArchitecture(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteArchitecture(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Architecture(ctx, a.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get after delete: %v, want ErrNotFound", err)
		}
		if _, err := s.Architecture(ctx, keep.ID); err != nil {
			t.Fatalf("other architecture gone: %v", err)
		}
		if n, err := s.CountArchitectures(ctx); err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		s := openStore(t, fresh(t))
		missing := newID()
		if _, err := s.Architecture(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Errorf("Architecture: %v, want ErrNotFound", err)
		}
		if err := s.UpdateArchitecture(ctx, &Architecture{ID: missing, Name: "x", Spec: []byte(`{}`)}); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateArchitecture: %v, want ErrNotFound", err)
		}
		if err := s.DeleteArchitecture(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteArchitecture: %v, want ErrNotFound", err)
		}
		list, err := s.ListArchitectures(ctx, 10, 0)
		if err != nil || len(list) != 0 {
			t.Errorf("list of empty store = %v, %v", list, err)
		}
	})

	t.Run("ListOrderAndCount", func(t *testing.T) {
		ctx := t.Context()
		s := openStore(t, fresh(t))
		var created []Architecture
		for i := range 5 {
			a := Architecture{Name: fmt.Sprintf("a%d", i), Spec: []byte(fmt.Sprintf(`{"i":%d}`, i))}
			if err := s.CreateArchitecture(ctx, &a); err != nil {
				t.Fatal(err)
			}
			created = append(created, a)
		}
		// Two rows created in the same microsecond must still page stably.
		tie := created[4].CreatedAt.Add(time.Second)
		for _, id := range []string{"tieaaaaaaaaa", "tiezzzzzzzzz"} {
			row := architectureRow{ID: id, Name: id, Spec: "{}", CreatedAt: tie, UpdatedAt: tie}
			if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
				t.Fatal(err)
			}
			created = append(created, row.architecture())
		}
		want := slices.Clone(created)
		slices.SortFunc(want, func(a, b Architecture) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		if want[0].ID != "tiezzzzzzzzz" || want[1].ID != "tieaaaaaaaaa" {
			t.Fatalf("test setup: want ties first, got %s, %s", want[0].ID, want[1].ID)
		}

		all, err := s.ListArchitectures(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		assertIDs(t, "all", all, want)
		for _, a := range all {
			if len(a.Spec) == 0 {
				t.Fatalf("list left Spec of %s empty", a.ID)
			}
		}

		var paged []Architecture
		for off := 0; off < len(want); off += 3 {
			page, err := s.ListArchitectures(ctx, 3, off)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, page...)
		}
		assertIDs(t, "paged", paged, want)

		rest, err := s.ListArchitectures(ctx, 0, 5)
		if err != nil {
			t.Fatalf("offset without limit: %v", err)
		}
		assertIDs(t, "offset only", rest, want[5:])

		n, err := s.CountArchitectures(ctx)
		if err != nil || n != int64(len(want)) {
			t.Fatalf("count = %d, %v; want %d", n, err, len(want))
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := openStore(t, fresh(t))
		a := Architecture{Name: "x", Spec: []byte(`{}`)}
		if err := s.CreateArchitecture(t.Context(), &a); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Architecture(ctx, a.ID); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Architecture with cancelled context: %v, want an error other than ErrNotFound", err)
		} else if !errors.Is(err, context.Canceled) {
			t.Errorf("Architecture with cancelled context: %v, want it to wrap context.Canceled", err)
		}
		if err := s.CreateArchitecture(ctx, &Architecture{Name: "y", Spec: []byte(`{}`)}); err == nil {
			t.Error("CreateArchitecture with cancelled context succeeded")
		}
		if _, err := s.ListArchitectures(ctx, 10, 0); err == nil {
			t.Error("ListArchitectures with cancelled context succeeded")
		}
		if _, err := s.CountArchitectures(ctx); err == nil {
			t.Error("CountArchitectures with cancelled context succeeded")
		}
		if n, err := s.CountArchitectures(t.Context()); err != nil || n != 1 {
			t.Errorf("count = %d, %v; want 1 (nothing written under the cancelled context)", n, err)
		}
	})

	t.Run("ReopenKeepsDataAndSchema", func(t *testing.T) {
		ctx := t.Context()
		dsn := fresh(t)
		s, err := Open(ctx, dsn, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		a := Architecture{Name: "durable", Spec: []byte(`{"keep":true}`)}
		if err := s.CreateArchitecture(ctx, &a); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		s2 := openStore(t, dsn)
		got, err := s2.Architecture(ctx, a.ID)
		if err != nil {
			t.Fatalf("after reopen: %v", err)
		}
		assertSame(t, got, a)
		assertMigrationsAppliedOnce(t, s2)
	})

	t.Run("ConcurrentOpenMigratesOnce", func(t *testing.T) {
		dsn := fresh(t)
		const n = 4
		stores := make([]*Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn, quietLogger()) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Open %d: %v", i, errs[i])
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		assertMigrationsAppliedOnce(t, stores[0])
	})

	t.Run("NewerSchemaRefused", func(t *testing.T) {
		ctx := t.Context()
		dsn := fresh(t)
		s, err := Open(ctx, dsn, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		future := len(migrations()) + 1
		if err := s.db.WithContext(ctx).Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			future, "from the future", now()).Error; err != nil {
			t.Fatal(err)
		}
		s.Close()

		s2, err := Open(ctx, dsn, quietLogger())
		if err == nil {
			s2.Close()
			t.Fatal("Open accepted a database with a newer schema")
		}
		msg := err.Error()
		for _, want := range []string{"newer", fmt.Sprint(future), fmt.Sprint(len(migrations()))} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not mention %q", msg, want)
			}
		}
	})
}

func assertSame(t *testing.T, got, want Architecture) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || string(got.Spec) != string(want.Spec) ||
		got.CreatedAt != want.CreatedAt || got.UpdatedAt != want.UpdatedAt {
		t.Fatalf("got  %+v (spec %s)\nwant %+v (spec %s)", got, got.Spec, want, want.Spec)
	}
}

func assertIDs(t *testing.T, what string, got, want []Architecture) {
	t.Helper()
	ids := func(as []Architecture) []string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.ID
		}
		return out
	}
	if g, w := ids(got), ids(want); !slices.Equal(g, w) {
		t.Fatalf("%s: ids %v, want %v", what, g, w)
	}
}

func assertMigrationsAppliedOnce(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != len(migrations()) {
		t.Fatalf("SchemaVersion = %d, want %d", v, len(migrations()))
	}
	var rows int64
	if err := s.db.WithContext(ctx).Table("schema_migrations").Count(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(migrations())) {
		t.Fatalf("schema_migrations has %d rows, want %d (a step ran twice?)", rows, len(migrations()))
	}
}

// The tests below concern one database or none and run outside the suite.

func TestMigrationsAreSequential(t *testing.T) {
	for i, m := range migrations() {
		if m.version != i+1 {
			t.Errorf("migration %d (%s) has version %d, want %d", i, m.name, m.version, i+1)
		}
		if m.name == "" || m.up == nil {
			t.Errorf("migration %d is missing a name or an up function", m.version)
		}
	}
}

func TestParseSQLiteDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn     string
		want    sqliteTarget
		wantErr bool
	}{
		{dsn: "", want: sqliteTarget{path: "gatewise.db"}},
		{dsn: "data/g.db", want: sqliteTarget{path: "data/g.db"}},
		{dsn: "/var/lib/gatewise/g.db", want: sqliteTarget{path: "/var/lib/gatewise/g.db"}},
		{dsn: "sqlite://data/g.db", want: sqliteTarget{path: "data/g.db"}},
		{dsn: "sqlite:///abs/g.db", want: sqliteTarget{path: "/abs/g.db"}},
		{dsn: "file:data/g.db", want: sqliteTarget{path: "data/g.db"}},
		{dsn: ":memory:", want: sqliteTarget{memory: true}},
		{dsn: "sqlite://:memory:", want: sqliteTarget{memory: true}},
		{dsn: "file::memory:", want: sqliteTarget{memory: true}},
		{dsn: "g.db?_pragma=foo", wantErr: true},
		{dsn: "sqlite://", wantErr: true},
	} {
		got, err := parseSQLiteDSN(tc.dsn)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseSQLiteDSN(%q) = %+v, %v; want %+v, error %v", tc.dsn, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestSQLitePragmas(t *testing.T) {
	dsn := sqliteTarget{path: "x.db"}.driverDSN()
	busy, wal := strings.Index(dsn, "busy_timeout"), strings.Index(dsn, "journal_mode(WAL)")
	if busy < 0 || wal < 0 || busy > wal {
		t.Fatalf("DSN %q must set busy_timeout before journal_mode(WAL)", dsn)
	}

	s := openStore(t, filepath.Join(t.TempDir(), "p.db"))
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "5000",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
	} {
		var got string
		if err := s.db.WithContext(t.Context()).Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestOpenMemoryIsPrivate(t *testing.T) {
	ctx := t.Context()
	a, b := openStore(t, ":memory:"), openStore(t, ":memory:")
	if err := a.CreateArchitecture(ctx, &Architecture{Name: "only in a", Spec: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[*Store]int64{a: 1, b: 0} {
		if n, err := s.CountArchitectures(ctx); err != nil || n != want {
			t.Errorf("count = %d, %v; want %d", n, err, want)
		}
	}
}

func TestOpenEmptyDSNUsesWorkingDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	s := openStore(t, "")
	if s.Kind() != KindSQLite {
		t.Fatalf("Kind = %q", s.Kind())
	}
	if _, err := os.Stat(DefaultSQLitePath); err != nil {
		t.Fatalf("default database file: %v", err)
	}
}

func TestOpenSQLiteMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "g.db")
	s, err := Open(t.Context(), path, quietLogger())
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
}

func TestOpenPostgresUnreachable(t *testing.T) {
	// Port 1 on loopback refuses at once; no server is needed.
	s, err := Open(t.Context(), "postgres://gatewise:hunter2secret@127.0.0.1:1/gatewise?sslmode=disable", quietLogger())
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot reach PostgreSQL at 127.0.0.1:1") {
		t.Errorf("error %q does not say which server is unreachable", msg)
	}
	if strings.Contains(msg, "hunter2secret") {
		t.Errorf("error %q reveals the password", msg)
	}
}

func BenchmarkCreateArchitecture(b *testing.B) {
	s := openStore(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := b.Context()
	spec := []byte(strings.Repeat(`{"provider":"openai","region":"us-east-1"},`, 40))
	b.ReportAllocs()
	for b.Loop() {
		a := Architecture{Name: "bench", Spec: spec}
		if err := s.CreateArchitecture(ctx, &a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListArchitectures(b *testing.B) {
	s := openStore(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := b.Context()
	spec := []byte(strings.Repeat(`{"provider":"openai","region":"us-east-1"},`, 40))
	for range 200 {
		if err := s.CreateArchitecture(ctx, &Architecture{Name: "bench", Spec: spec}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		list, err := s.ListArchitectures(ctx, 20, 0)
		if err != nil || len(list) != 20 {
			b.Fatal(len(list), err)
		}
	}
}

// A run goes queued → running → done, or ends failed, cancelled or
// interrupted and can be queued again; workers never claim a run twice,
// and deleting the architecture deletes its runs.
func testRunLifecycle(t *testing.T, s *Store) {
	ctx := t.Context()
	if err := s.CreateRun(ctx, &Run{ArchitectureID: "nope", Options: []byte("{}")}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("run of a missing architecture: %v", err)
	}
	a := Architecture{Name: "a", Spec: []byte("{}")}
	if err := s.CreateArchitecture(ctx, &a); err != nil {
		t.Fatal(err)
	}
	r1 := Run{ArchitectureID: a.ID, Options: []byte(`{"trials":100}`), Spec: []byte(`{"name":"as queued"}`), Total: 100}
	r2 := Run{ArchitectureID: a.ID, Options: []byte(`{}`)}
	for _, r := range []*Run{&r1, &r2} {
		if err := s.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		if r.Status != RunQueued || r.ID == "" {
			t.Fatalf("new run %+v", r)
		}
	}
	for want, r := range []Run{r1, r2} {
		if pos, err := s.QueuePosition(ctx, r); err != nil || pos != want+1 {
			t.Errorf("QueuePosition(run %d) = %d, %v; want %d", want+1, pos, err, want+1)
		}
	}
	got, err := s.ClaimRun(ctx)
	if err != nil || got.ID != r1.ID || got.Status != RunRunning || got.StartedAt.IsZero() {
		t.Fatalf("first claim = %+v, %v; want the oldest run running, with its start time", got, err)
	}
	if stored, _ := s.Run(ctx, r1.ID); stored.StartedAt.IsZero() || string(stored.Spec) != `{"name":"as queued"}` {
		t.Errorf("stored run %+v: want its start time and the architecture it was queued with", stored)
	}
	if got.Spec == nil || string(got.Spec) != `{"name":"as queued"}` {
		t.Errorf("the claimed run lacks its architecture: %q", got.Spec)
	}
	if pos, err := s.QueuePosition(ctx, r2); err != nil || pos != 1 {
		t.Errorf("QueuePosition after a claim = %d, %v; want 1", pos, err)
	}
	if pos, err := s.QueuePosition(ctx, got); err != nil || pos != 0 {
		t.Errorf("QueuePosition of a running run = %d, %v; want 0", pos, err)
	}
	if next, err := s.ClaimRun(ctx); err != nil || next.ID != r2.ID {
		t.Fatalf("second claim = %+v, %v", next, err)
	}
	if _, err := s.ClaimRun(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("claim with nothing queued: %v", err)
	}
	if err := s.RunProgress(ctx, r1.ID, 40, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, r1.ID, []byte(`{"seed":1}`), "# memo", RunSummary{Chosen: "portkey", Traffic: "synthetic"}); err != nil {
		t.Fatal(err)
	}
	done, err := s.Run(ctx, r1.ID)
	if err != nil || done.Status != RunDone || done.Done != 100 || string(done.Result) != `{"seed":1}` || done.Memo != "# memo" || done.Chosen != "portkey" {
		t.Fatalf("done run = %+v, %v", done, err)
	}
	// Lists carry the summary without the result.
	if list, err := s.ListRuns(ctx, 10, 0); err != nil || !slices.ContainsFunc(list, func(r Run) bool {
		return r.ID == r1.ID && r.Chosen == "portkey" && r.Traffic == "synthetic" && len(r.Result) == 0
	}) {
		t.Errorf("ListRuns = %+v, %v; want r1 with its choice and traffic, no result", list, err)
	}
	if err := s.EndRun(ctx, r1.ID, RunCancelled, "too late"); err == nil {
		t.Error("a finished run cannot be cancelled")
	}
	if n, err := s.InterruptRunning(ctx); err != nil || n != 1 {
		t.Fatalf("InterruptRunning = %d, %v; want the one running run", n, err)
	}
	if r, _ := s.Run(ctx, r2.ID); r.Status != RunInterrupted || r.Error == "" {
		t.Fatalf("interrupted run = %+v", r)
	}
	if err := s.RequeueRun(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RequeueRun(ctx, r1.ID); err == nil {
		t.Error("a done run cannot be queued again")
	}
	if err := s.EndRun(ctx, r2.ID, RunDone, ""); err == nil {
		t.Error("EndRun takes only failed, cancelled or interrupted")
	}
	if err := s.EndRun(ctx, r2.ID, RunCancelled, "by the user"); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListRuns(ctx, 10, 0)
	if err != nil || len(list) != 2 || list[0].ID != r2.ID || len(list[1].Result) != 0 || len(list[1].Spec) != 0 {
		t.Fatalf("ListRuns = %+v, %v (newest first, without results or specs)", list, err)
	}
	if err := s.DeleteArchitecture(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, r1.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("runs outlive their architecture: %v", err)
	}
}

// Uploads keep their summary and profile bytes exactly, list without the
// profile, and go with their architecture.
func testUploads(t *testing.T, s *Store) {
	ctx := t.Context()
	if err := s.CreateUpload(ctx, &Upload{ArchitectureID: "nope", Summary: []byte("{}"), Profile: []byte{1}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("upload of a missing architecture: %v", err)
	}
	a := Architecture{Name: "a", Spec: []byte("{}")}
	if err := s.CreateArchitecture(ctx, &a); err != nil {
		t.Fatal(err)
	}
	profile := []byte{0x1f, 0x8b, 0, 1, 2, 255, 254}
	u := Upload{ArchitectureID: a.ID, Name: "spend.csv", Summary: []byte(`{"rows_read":5}`), Profile: profile}
	if err := s.CreateUpload(ctx, &u); err != nil {
		t.Fatal(err)
	}
	got, err := s.Upload(ctx, u.ID)
	if err != nil || string(got.Profile) != string(profile) || string(got.Summary) != `{"rows_read":5}` || got.Name != "spend.csv" {
		t.Fatalf("Upload = %+v, %v", got, err)
	}
	list, err := s.ListUploads(ctx, a.ID)
	if err != nil || len(list) != 1 || list[0].Profile != nil {
		t.Fatalf("ListUploads = %+v, %v", list, err)
	}
	if got.Status != UploadReady || got.RawBytes != 0 {
		t.Errorf("a new upload is %q with %d raw bytes, want ready with none", got.Status, got.RawBytes)
	}

	// An upload waiting for its mapping has its raw log, completes once,
	// then is ready, its raw log gone.
	if err := s.CreateUpload(ctx, &Upload{ArchitectureID: a.ID, Name: "odd.csv", Status: UploadMapping}); err == nil {
		t.Error("an upload waiting for its mapping was stored without its raw log")
	}
	w := Upload{ArchitectureID: a.ID, Name: "odd.csv", Status: UploadMapping, ReadOptions: `{"format":"auto"}`}
	if err := s.CreateUploadWithRaw(ctx, &w, strings.NewReader(strings.Repeat("x", 120))); err != nil {
		t.Fatal(err)
	}
	if w.RawBytes != 120 {
		t.Errorf("RawBytes = %d, want 120", w.RawBytes)
	}
	if err := s.CompleteUpload(ctx, &Upload{ID: u.ID, Summary: []byte("{}"), Profile: []byte{1}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("completing a ready upload: %v, want ErrNotFound", err)
	}
	if missing, err := s.UploadsMissingRaw(ctx); err != nil || len(missing) != 0 {
		t.Errorf("UploadsMissingRaw = %+v, %v, want none", missing, err)
	}
	if err := s.SetUploadOptions(ctx, w.ID, `{"map":"timestamp=t"}`); err != nil {
		t.Fatal(err)
	}
	done := Upload{ID: w.ID, Summary: []byte(`{"rows_read":2}`), Profile: profile, RawBytes: 0, ReadOptions: `{"map":"timestamp=t"}`}
	if err := s.CompleteUpload(ctx, &done); err != nil {
		t.Fatal(err)
	}
	if done.Status != UploadReady || string(done.Profile) != string(profile) || done.Name != "odd.csv" || done.ReadOptions != `{"map":"timestamp=t"}` || done.RawBytes != 0 {
		t.Errorf("completed upload = %+v", done)
	}
	if _, err := s.OpenRaw(ctx, w.ID); !errors.Is(err, ErrRawGone) {
		t.Errorf("the raw log of an upload completed without keeping it: %v, want ErrRawGone", err)
	}
	if err := s.CompleteUpload(ctx, &done); !errors.Is(err, ErrNotFound) {
		t.Errorf("completing twice: %v, want ErrNotFound", err)
	}
	if err := s.DeleteUpload(ctx, w.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a ready upload: %v, want ErrNotFound (runs replay it)", err)
	}

	// Waiting uploads expire; ready ones do not.
	old := Upload{ArchitectureID: a.ID, Name: "old.csv", Status: UploadMapping}
	if err := s.CreateUploadWithRaw(ctx, &old, strings.NewReader("ts\n1\n")); err != nil {
		t.Fatal(err)
	}
	ids, err := s.DeleteWaitingUploads(ctx, time.Now().Add(time.Minute))
	if err != nil || len(ids) != 1 || ids[0] != old.ID {
		t.Fatalf("DeleteWaitingUploads = %v, %v, want [%s]", ids, err, old.ID)
	}
	if _, err := s.Upload(ctx, u.ID); err != nil {
		t.Errorf("a ready upload expired: %v", err)
	}

	if err := s.DeleteArchitecture(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upload(ctx, u.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("uploads outlive their architecture: %v", err)
	}
}

// Price files keep their bytes exactly and list newest first without them.
func testPriceFiles(t *testing.T, s *Store) {
	ctx := t.Context()
	if _, err := s.PriceFile(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing price file: %v", err)
	}
	data := []byte("{\"gpt-4.1\": {\"input_cost_per_token\": 2e-06}}\x00\xff")
	a := PriceFile{Name: "a.json", Format: "litellm", AsOf: "2026-07-24", Data: data}
	b := PriceFile{Name: "b.json", Format: "openrouter", Data: []byte("{}")}
	for _, p := range []*PriceFile{&a, &b} {
		if err := s.CreatePriceFile(ctx, p); err != nil || p.ID == "" {
			t.Fatalf("CreatePriceFile = %+v, %v", p, err)
		}
	}
	got, err := s.PriceFile(ctx, a.ID)
	if err != nil || !bytes.Equal(got.Data, data) || got.Format != "litellm" || got.AsOf != "2026-07-24" || got.Name != "a.json" {
		t.Fatalf("PriceFile = %+v, %v", got, err)
	}
	list, err := s.ListPriceFiles(ctx)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].Data != nil {
		t.Fatalf("ListPriceFiles = %+v, %v (newest first, without data)", list, err)
	}
}

// Rows made under an owner are invisible, unchangeable and undeletable under
// another; unscoped work (the runner) sees everything.
func testOwnership(t *testing.T, s *Store) {
	bg := t.Context()
	alice, bob := AsOwner(bg, "alice"), AsOwner(bg, "bob")
	a := Architecture{Name: "alice's", Spec: []byte("{}")}
	if err := s.CreateArchitecture(alice, &a); err != nil {
		t.Fatal(err)
	}
	run := Run{ArchitectureID: a.ID, Options: []byte("{}"), Total: 10}
	if err := s.CreateRun(bob, &run); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob runs alice's architecture: %v, want ErrNotFound", err)
	}
	if err := s.CreateRun(alice, &run); err != nil {
		t.Fatal(err)
	}
	up := Upload{ArchitectureID: a.ID, Name: "log.csv", Summary: []byte("{}"), Profile: []byte{1}}
	if err := s.CreateUploadWithRaw(alice, &up, strings.NewReader("ts\n1\n")); err != nil {
		t.Fatal(err)
	}
	pf := PriceFile{Name: "p.json", Format: "litellm", Data: []byte("{}")}
	if err := s.CreatePriceFile(alice, &pf); err != nil {
		t.Fatal(err)
	}

	checks := map[string]error{}
	_, checks["Architecture"] = s.Architecture(bob, a.ID)
	checks["UpdateArchitecture"] = s.UpdateArchitecture(bob, &Architecture{ID: a.ID, Name: "taken", Spec: []byte("{}")})
	checks["DeleteArchitecture"] = s.DeleteArchitecture(bob, a.ID)
	_, checks["Run"] = s.Run(bob, run.ID)
	checks["EndRun"] = s.EndRun(bob, run.ID, RunCancelled, "by bob")
	checks["RequeueRun"] = s.RequeueRun(bob, run.ID)
	_, checks["Upload"] = s.Upload(bob, up.ID)
	checks["DeleteRaw"] = s.DeleteRaw(bob, up.ID)
	_, checks["OpenRaw"] = s.OpenRaw(bob, up.ID)
	checks["CreateUploadFrom"] = s.CreateUploadFrom(bob, &Upload{ArchitectureID: a.ID, Name: "copy.csv", Status: UploadMapping}, up.ID)
	_, checks["PriceFile"] = s.PriceFile(bob, pf.ID)
	_, checks["CreateShare"] = s.CreateShare(bob, ShareRun, run.ID)
	for name, err := range checks {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s as bob: %v, want ErrNotFound", name, err)
		}
	}
	if names, err := s.ArchitectureNames(bob, []string{a.ID, "nope"}); err != nil || len(names) != 0 {
		t.Errorf("bob's ArchitectureNames = %v, %v", names, err)
	}
	if names, err := s.ArchitectureNames(alice, []string{a.ID, a.ID, "nope"}); err != nil || len(names) != 1 || names[a.ID] != "alice's" {
		t.Errorf("alice's ArchitectureNames = %v, %v", names, err)
	}
	if as, _ := s.ListArchitectures(bob, 0, 0); len(as) != 0 {
		t.Errorf("bob lists %d architectures", len(as))
	}
	if n, _ := s.CountArchitectures(bob); n != 0 {
		t.Errorf("bob counts %d architectures", n)
	}
	if rs, _ := s.ListRuns(bob, 0, 0); len(rs) != 0 {
		t.Errorf("bob lists %d runs", len(rs))
	}
	if us, _ := s.ListUploads(bob, a.ID); len(us) != 0 {
		t.Errorf("bob lists %d uploads", len(us))
	}
	if ps, _ := s.ListPriceFiles(bob); len(ps) != 0 {
		t.Errorf("bob lists %d price files", len(ps))
	}
	// Alice sees hers; the runner sees everything.
	if got, err := s.Architecture(alice, a.ID); err != nil || got.Name != "alice's" {
		t.Errorf("alice's own architecture: %+v, %v", got, err)
	}
	if rs, _ := s.ListRuns(bg, 0, 0); len(rs) != 1 {
		t.Errorf("unscoped ListRuns = %d runs, want 1", len(rs))
	}
	if _, err := s.Run(Unscoped(alice), run.ID); err != nil {
		t.Errorf("Unscoped drops the owner: %v", err)
	}
	if rs, _ := s.ListRuns(AsOwner(bg, ""), 0, 0); len(rs) != 0 {
		t.Errorf("rows made with sign-in belong to no one else, not even the empty owner: %d", len(rs))
	}
}

// Rows made without sign-in are handed to one user, all at once; other
// users' rows are left alone, and counting changes nothing.
func testClaimUnowned(t *testing.T, s *Store) {
	bg := t.Context()
	open, bob := bg, AsOwner(bg, "bob")
	for _, ctx := range []context.Context{open, open, bob} {
		a := Architecture{Name: "arch", Spec: []byte("{}")}
		if err := s.CreateArchitecture(ctx, &a); err != nil {
			t.Fatal(err)
		}
		run := Run{ArchitectureID: a.ID, Options: []byte("{}"), Total: 10}
		if err := s.CreateRun(ctx, &run); err != nil {
			t.Fatal(err)
		}
		up := Upload{ArchitectureID: a.ID, Name: "log.csv", Summary: []byte("{}"), Profile: []byte{1}}
		if err := s.CreateUpload(ctx, &up); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateShare(ctx, ShareRun, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	pf := PriceFile{Name: "p.json", Format: "litellm", Data: []byte("{}")}
	if err := s.CreatePriceFile(open, &pf); err != nil {
		t.Fatal(err)
	}
	alice := AsOwner(bg, "alice")
	before, _ := s.ListArchitectures(open, 0, 0)

	want := Claimed{Architectures: 2, Runs: 2, Uploads: 2, PriceFiles: 1, Shares: 2}
	if got, err := s.Unowned(bg); err != nil || got != want {
		t.Errorf("Unowned = %+v, %v; want %+v", got, err, want)
	}
	if as, _ := s.ListArchitectures(alice, 0, 0); len(as) != 0 {
		t.Errorf("after counting alice has %d architectures, want 0", len(as))
	}
	if got, err := s.ClaimUnowned(bg, "alice"); err != nil || got != want || got.Total() != 9 {
		t.Errorf("claim = %+v, %v; want %+v", got, err, want)
	}
	as, _ := s.ListArchitectures(alice, 0, 0)
	if len(as) != 2 {
		t.Fatalf("alice has %d architectures after the claim, want 2", len(as))
	}
	for _, a := range as {
		for _, b := range before {
			if a.ID == b.ID && !a.UpdatedAt.Equal(b.UpdatedAt) {
				t.Errorf("claiming changed %s's UpdatedAt from %v to %v", a.ID, b.UpdatedAt, a.UpdatedAt)
			}
		}
	}
	if rs, _ := s.ListRuns(alice, 0, 0); len(rs) != 2 {
		t.Errorf("alice has %d runs, want 2", len(rs))
	}
	if ps, _ := s.ListPriceFiles(alice); len(ps) != 1 {
		t.Errorf("alice has %d price files, want 1", len(ps))
	}
	if rs, _ := s.ListRuns(bob, 0, 0); len(rs) != 1 {
		t.Errorf("bob has %d runs, want his 1", len(rs))
	}
	if got, err := s.ClaimUnowned(bg, "carol"); err != nil || got.Total() != 0 {
		t.Errorf("a second claim = %+v, %v; want nothing left", got, err)
	}
	if _, err := s.ClaimUnowned(bg, ""); err == nil {
		t.Error("a claim for no one succeeded")
	}
}

// Sessions sign in until they expire or are deleted; share links open their
// target for anyone with the token until revoked by their owner.
func testSessionsAndShares(t *testing.T, s *Store) {
	ctx := t.Context()
	token, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil || len(token) < 40 {
		t.Fatalf("CreateSession = %q, %v", token, err)
	}
	if u, err := s.SessionUser(ctx, token); err != nil || u != "alice" {
		t.Errorf("SessionUser = %q, %v", u, err)
	}
	if _, err := s.SessionUser(ctx, token+"x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a wrong token: %v", err)
	}
	old, _ := s.CreateSession(ctx, "bob", -time.Minute)
	if _, err := s.SessionUser(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired session signs in: %v", err)
	}
	if n, err := s.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v, want 1", n, err)
	}
	if err := s.DeleteSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted session signs in: %v", err)
	}

	alice, bob := AsOwner(ctx, "alice"), AsOwner(ctx, "bob")
	a := Architecture{Name: "a", Spec: []byte("{}")}
	if err := s.CreateArchitecture(alice, &a); err != nil {
		t.Fatal(err)
	}
	sh, err := s.CreateShare(alice, ShareArchitecture, a.ID)
	if err != nil || sh.Owner != "alice" || sh.TargetID != a.ID {
		t.Fatalf("CreateShare = %+v, %v", sh, err)
	}
	if got, err := s.Share(bob, sh.Token); err != nil || got.TargetID != a.ID {
		t.Errorf("anyone with the token opens it: %+v, %v", got, err)
	}
	if list, _ := s.ListShares(bob, ShareArchitecture, a.ID); len(list) != 0 {
		t.Errorf("bob lists alice's links")
	}
	if _, err := s.RevokeShare(bob, sh.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob revokes alice's link: %v", err)
	}
	if list, _ := s.ListShares(alice, ShareArchitecture, a.ID); len(list) != 1 {
		t.Errorf("alice lists %d links, want 1", len(list))
	}
	if _, err := s.RevokeShare(alice, sh.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Share(ctx, sh.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("a revoked link opens: %v", err)
	}
}
