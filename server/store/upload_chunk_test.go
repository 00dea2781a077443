package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatewise/server/store/storetest"
)

// Raw logs in chunks, on every database gatewise supports, as in
// store_test.go: SQLite always, PostgreSQL with GATEWISE_TEST_POSTGRES.

func TestRawLogsSQLite(t *testing.T) {
	runRawSuite(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "gatewise.db") })
}

func TestRawLogsPostgres(t *testing.T) {
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run the raw log suite on PostgreSQL")
	}
	runRawSuite(t, func(t *testing.T) string { return storetest.Schema(t, base) })
}

func runRawSuite(t *testing.T, fresh func(t *testing.T) string) {
	t.Run("RoundTripInChunks", func(t *testing.T) { testRawRoundTrip(t, openStore(t, fresh(t))) })
	t.Run("FailedWriteLeavesNothing", func(t *testing.T) { testRawFailedWrite(t, openStore(t, fresh(t))) })
	t.Run("CopyDeleteCascade", func(t *testing.T) { testRawCopyAndDelete(t, openStore(t, fresh(t))) })
	t.Run("DeletedWhileRead", func(t *testing.T) { testRawDeletedWhileRead(t, openStore(t, fresh(t))) })
	t.Run("DeploymentID", func(t *testing.T) { testDeploymentID(t, fresh(t), fresh(t)) })
	t.Run("ImportFromAnEarlierSchema", func(t *testing.T) { testRawImport(t, fresh(t)) })
}

// rawArchitecture stores an architecture for raw logs to belong to.
func rawArchitecture(t *testing.T, s *Store) string {
	t.Helper()
	a := Architecture{Name: "a", Spec: []byte("{}")}
	if err := s.CreateArchitecture(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// randomLog is n bytes of reproducible noise: every byte value, NULs too,
// so nothing is read back through a text conversion by accident.
func randomLog(n int) []byte {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// chunkSizes lists the sizes of an upload's chunks in order.
func chunkSizes(t *testing.T, s *Store, id string) []int {
	t.Helper()
	var sizes []int
	err := s.db.WithContext(t.Context()).Model(&chunkRow{}).Where("upload_id = ?", id).Order("seq").
		Pluck("LENGTH(data)", &sizes).Error
	if err != nil {
		t.Fatal(err)
	}
	return sizes
}

func countChunks(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.db.WithContext(t.Context()).Model(&chunkRow{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A 6.5 MiB log is kept as six whole chunks and a half one, and reads back
// byte for byte while the reader never holds more than a batch of chunks.
func testRawRoundTrip(t *testing.T, s *Store) {
	ctx := t.Context()
	arch := rawArchitecture(t, s)
	log := randomLog(6*RawChunkSize + RawChunkSize/2)
	u := Upload{ArchitectureID: arch, Name: "big.csv", Status: UploadMapping, ReadOptions: "{}"}
	if err := s.CreateUploadWithRaw(ctx, &u, bytes.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if u.RawBytes != int64(len(log)) || u.Status != UploadMapping || u.ID == "" {
		t.Fatalf("created %+v, want %d raw bytes, waiting", u, len(log))
	}
	got, err := s.Upload(ctx, u.ID)
	if err != nil || got.RawBytes != int64(len(log)) {
		t.Fatalf("Upload = %+v, %v", got, err)
	}
	want := []int{RawChunkSize, RawChunkSize, RawChunkSize, RawChunkSize, RawChunkSize, RawChunkSize, RawChunkSize / 2}
	if sizes := chunkSizes(t, s, u.ID); fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("chunk sizes %v, want %v", sizes, want)
	}

	r, err := s.OpenRaw(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(log)) {
		t.Errorf("Size = %d", r.Size())
	}
	var back bytes.Buffer
	buf := make([]byte, 300<<10) // not a divisor of the chunk size
	most := 0
	for {
		n, err := r.Read(buf)
		back.Write(buf[:n])
		most = max(most, len(r.chunks))
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(back.Bytes(), log) {
		t.Fatalf("read back %d bytes, not the %d written", back.Len(), len(log))
	}
	if most > rawBatch {
		t.Errorf("the reader held %d chunks at once, want at most %d", most, rawBatch)
	}
	if r.Err() != nil {
		t.Errorf("Err after a whole read = %v", r.Err())
	}

	// A log of exactly one chunk, and one of a single byte.
	for _, n := range []int{RawChunkSize, 1} {
		v := Upload{ArchitectureID: arch, Name: "small.csv", Status: UploadMapping}
		if err := s.CreateUploadWithRaw(ctx, &v, bytes.NewReader(log[:n])); err != nil {
			t.Fatal(err)
		}
		r, err := s.OpenRaw(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(data, log[:n]) {
			t.Errorf("%d bytes: read %d, %v", n, len(data), err)
		}
	}
	if _, err := s.OpenRaw(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenRaw of no upload: %v, want ErrNotFound", err)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("the client went away")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// A raw log that cannot be read to its end, an empty one, and a cancelled
// write store neither the upload nor any chunk.
func testRawFailedWrite(t *testing.T, s *Store) {
	ctx := t.Context()
	arch := rawArchitecture(t, s)
	u := Upload{ArchitectureID: arch, Name: "cut.csv", Status: UploadMapping}
	if err := s.CreateUploadWithRaw(ctx, &u, &failingReader{n: 2*RawChunkSize + 5}); err == nil || !strings.Contains(err.Error(), "the client went away") {
		t.Errorf("a write cut after two chunks: %v", err)
	}
	if err := s.CreateUploadWithRaw(ctx, &Upload{ArchitectureID: arch, Name: "empty.csv", Status: UploadMapping}, strings.NewReader("")); err == nil {
		t.Error("an empty raw log was stored")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.CreateUploadWithRaw(cancelled, &Upload{ArchitectureID: arch, Name: "gone.csv", Status: UploadMapping}, bytes.NewReader(randomLog(3*RawChunkSize))); err == nil {
		t.Error("a cancelled write succeeded")
	}
	if err := s.CreateUploadWithRaw(ctx, &Upload{ArchitectureID: "nope", Name: "x.csv", Status: UploadMapping}, strings.NewReader("x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a raw log of no architecture: %v, want ErrNotFound", err)
	}
	if ups, err := s.ListUploads(ctx, arch); err != nil || len(ups) != 0 {
		t.Errorf("uploads after failed writes: %+v, %v, want none", ups, err)
	}
	if n := countChunks(t, s); n != 0 {
		t.Errorf("%d chunks after failed writes, want none", n)
	}
}

// Reading again copies the chunks; each upload's raw log then goes its own
// way, and every way an upload goes takes its chunks along.
func testRawCopyAndDelete(t *testing.T, s *Store) {
	ctx := t.Context()
	arch := rawArchitecture(t, s)
	log := randomLog(2*RawChunkSize + 10)
	kept := Upload{ArchitectureID: arch, Name: "kept.csv", Summary: []byte("{}"), Profile: []byte{1}}
	if err := s.CreateUploadWithRaw(ctx, &kept, bytes.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if kept.Status != UploadReady || kept.RawBytes != int64(len(log)) {
		t.Fatalf("kept upload %+v", kept)
	}
	again := Upload{ArchitectureID: arch, Name: "kept.csv", Status: UploadMapping}
	if err := s.CreateUploadFrom(ctx, &again, kept.ID); err != nil {
		t.Fatal(err)
	}
	if again.RawBytes != int64(len(log)) || again.ID == kept.ID {
		t.Fatalf("copy %+v", again)
	}
	if n := countChunks(t, s); n != 6 {
		t.Errorf("%d chunks, want 3 for each upload", n)
	}
	// The first one's raw log goes; the copy reads on.
	if err := s.DeleteRaw(ctx, kept.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Upload(ctx, kept.ID); got.RawBytes != 0 || got.Status != UploadReady {
		t.Errorf("after DeleteRaw: %+v", got)
	}
	if _, err := s.OpenRaw(ctx, kept.ID); !errors.Is(err, ErrRawGone) {
		t.Errorf("OpenRaw after DeleteRaw: %v, want ErrRawGone", err)
	}
	if err := s.CreateUploadFrom(ctx, &Upload{ArchitectureID: arch, Name: "x", Status: UploadMapping}, kept.ID); !errors.Is(err, ErrRawGone) {
		t.Errorf("copying a deleted raw log: %v, want ErrRawGone", err)
	}
	r, err := s.OpenRaw(ctx, again.ID)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := io.ReadAll(r); err != nil || !bytes.Equal(data, log) {
		t.Errorf("the copy reads %d bytes, %v", len(data), err)
	}

	// Completing while keeping keeps the chunks; discarding takes them.
	done := Upload{ID: again.ID, Summary: []byte("{}"), Profile: []byte{1}, RawBytes: again.RawBytes}
	if err := s.CompleteUpload(ctx, &done); err != nil {
		t.Fatal(err)
	}
	if done.RawBytes != int64(len(log)) || countChunks(t, s) != 3 {
		t.Errorf("completed keeping the log: %d raw bytes, %d chunks", done.RawBytes, countChunks(t, s))
	}
	waiting := Upload{ArchitectureID: arch, Name: "w.csv", Status: UploadMapping}
	if err := s.CreateUploadWithRaw(ctx, &waiting, strings.NewReader("a,b\n1,2\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpload(ctx, waiting.ID); err != nil {
		t.Fatal(err)
	}
	if n := countChunks(t, s); n != 3 {
		t.Errorf("%d chunks after discarding a waiting upload, want 3", n)
	}
	// The sweep's expiry, and the architecture's deletion, cascade.
	stale := Upload{ArchitectureID: arch, Name: "stale.csv", Status: UploadMapping}
	if err := s.CreateUploadWithRaw(ctx, &stale, strings.NewReader("a,b\n1,2\n")); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.DeleteWaitingUploads(ctx, stale.CreatedAt.Add(time.Microsecond)); err != nil || len(ids) != 1 || ids[0] != stale.ID {
		t.Fatalf("DeleteWaitingUploads = %v, %v", ids, err)
	}
	if n := countChunks(t, s); n != 3 {
		t.Errorf("%d chunks after the expiry, want 3", n)
	}
	if err := s.DeleteArchitecture(ctx, arch); err != nil {
		t.Fatal(err)
	}
	if n := countChunks(t, s); n != 0 {
		t.Errorf("%d chunks after deleting the architecture, want none", n)
	}
	if err := s.Scrub(ctx); err != nil {
		t.Errorf("Scrub: %v", err)
	}
}

// A log deleted while it is read ends in ErrRawGone, never in a short log
// that looks whole.
func testRawDeletedWhileRead(t *testing.T, s *Store) {
	ctx := t.Context()
	arch := rawArchitecture(t, s)
	u := Upload{ArchitectureID: arch, Name: "w.csv", Status: UploadMapping}
	if err := s.CreateUploadWithRaw(ctx, &u, bytes.NewReader(randomLog(3*RawChunkSize))); err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenRaw(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpload(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, ErrRawGone) || !errors.Is(r.Err(), ErrRawGone) {
		t.Fatalf("reading on after the deletion: %d bytes, %v (Err %v), want ErrRawGone", n, err, r.Err())
	}
	if n != RawChunkSize-1000 {
		t.Errorf("read %d bytes after the deletion, want the rest of the first chunk (%d)", n, RawChunkSize-1000)
	}
}

// Every store on a database sees one deployment id, which outlives a
// restart; another database has another.
func testDeploymentID(t *testing.T, dsn, other string) {
	ctx := t.Context()
	a, b := openStore(t, dsn), openStore(t, dsn)
	idA, err := a.DeploymentID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if idB, err := b.DeploymentID(ctx); err != nil || idB != idA {
		t.Errorf("two stores on one database: %q and %q, %v", idA, idB, err)
	}
	if len(idA) != idLength || strings.Trim(idA, idAlphabet) != "" {
		t.Errorf("deployment id %q is not an id", idA)
	}
	a.Close()
	if again, err := openStore(t, dsn).DeploymentID(ctx); err != nil || again != idA {
		t.Errorf("after reopening: %q, %v, want %q", again, err, idA)
	}
	if id, err := openStore(t, other).DeploymentID(ctx); err != nil || id == idA {
		t.Errorf("another database's id: %q, %v (this one's %q)", id, err, idA)
	}
}

// A database of schema 9, where uploads kept their raw logs on disk, is
// migrated; its uploads then say they miss their raw logs until imported,
// and an import must match the size the upload recorded.
func testRawImport(t *testing.T, dsn string) {
	ctx := t.Context()
	old := openAtVersion(t, dsn, 9)
	archID, waitID, keptID := newID(), newID(), newID()
	at := now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO architectures (id, name, spec, created_at, updated_at) VALUES (?, 'a', '{}', ?, ?)`, []any{archID, at, at}},
		{`INSERT INTO uploads (id, architecture_id, name, summary, profile, created_at, status, raw_bytes, read_options, owner)
			VALUES (?, ?, 'odd.csv', '', ?, ?, 'mapping', 11, '{}', 'alice')`, []any{waitID, archID, []byte{}, at}},
		{`INSERT INTO uploads (id, architecture_id, name, summary, profile, created_at, status, raw_bytes, read_options, owner)
			VALUES (?, ?, 'kept.csv', '{}', ?, ?, 'ready', 5, '{}', '')`, []any{keptID, archID, []byte{1}, at}},
	} {
		if err := old.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	if db, err := old.DB(); err == nil {
		db.Close()
	}

	s := openStore(t, dsn)
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations()) {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	if _, err := s.DeploymentID(ctx); err != nil {
		t.Errorf("a migrated database has no deployment id: %v", err)
	}
	missing, err := s.UploadsMissingRaw(ctx) // unscoped: alice's too
	if err != nil || len(missing) != 2 {
		t.Fatalf("UploadsMissingRaw = %+v, %v, want both", missing, err)
	}
	if _, err := s.OpenRaw(ctx, waitID); !errors.Is(err, ErrRawGone) {
		t.Errorf("OpenRaw before the import: %v, want ErrRawGone", err)
	}
	if err := s.ImportRaw(ctx, waitID, 11, strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Error("an import of 8 bytes for an upload of 11 succeeded")
	}
	if err := s.ImportRaw(ctx, waitID, 12, strings.NewReader("a,b\n1,2\n3,4")); !errors.Is(err, ErrNotFound) {
		t.Errorf("an import of another size than the upload's: %v, want ErrNotFound", err)
	}
	if n := countChunks(t, s); n != 0 {
		t.Errorf("%d chunks after refused imports", n)
	}
	if err := s.ImportRaw(ctx, waitID, 11, strings.NewReader("a,b\n1,2\n3,4")); err != nil {
		t.Fatal(err)
	}
	if err := s.ImportRaw(ctx, waitID, 11, strings.NewReader("a,b\n1,2\n3,4")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a second import: %v, want ErrNotFound", err)
	}
	r, err := s.OpenRaw(AsOwner(ctx, "alice"), waitID)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := io.ReadAll(r); err != nil || string(data) != "a,b\n1,2\n3,4" {
		t.Errorf("the imported log reads %q, %v", data, err)
	}
	if missing, err := s.UploadsMissingRaw(ctx); err != nil || len(missing) != 1 || missing[0].ID != keptID || missing[0].RawBytes != 5 {
		t.Errorf("UploadsMissingRaw after one import = %+v, %v", missing, err)
	}
}

// openAtVersion opens dsn with the first n schema steps applied, as a
// gatewise of that schema left it, and closes it when the test ends.
func openAtVersion(t *testing.T, dsn string, n int) *gorm.DB {
	t.Helper()
	cfg := &gorm.Config{Logger: newGormLogger(quietLogger()), SkipDefaultTransaction: true, NowFunc: now}
	var s *Store
	var err error
	if isPostgres(dsn) {
		s, err = openPostgres(t.Context(), dsn, cfg)
	} else {
		s, err = openSQLite(t.Context(), dsn, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + timestampType(s.kind) + ` NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	for _, step := range migrations()[:n] {
		err := s.db.Transaction(func(tx *gorm.DB) error {
			if err := step.up(tx, s.kind); err != nil {
				return err
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", step.version, step.name, now()).Error
		})
		if err != nil {
			t.Fatalf("step %d: %v", step.version, err)
		}
	}
	return s.db
}

// Raw logs hold prompt text. Once deleted, in every way an upload loses
// its raw log, no copy is left in the SQLite file or its write-ahead log,
// while the database is open.
func TestDeletedRawLogLeavesNoCopySQLite(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatewise.db")
	s := openStore(t, path)
	var secure int
	if err := s.db.Raw("PRAGMA secure_delete").Scan(&secure).Error; err != nil {
		t.Fatal(err)
	}
	if secure != 1 {
		t.Errorf("secure_delete = %d, want 1: deleted rows would stay readable in free pages", secure)
	}
	arch := rawArchitecture(t, s)
	const marker = "PROMPT-MARKER-5521"
	log := []byte(strings.Repeat("2026-11-02T09:00:00Z,gpt-4.1,\""+marker+" asks\"\n", 3*RawChunkSize/40))
	scan := func(when string) {
		t.Helper()
		for _, f := range []string{path, path + "-wal"} {
			data, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte(marker)) {
				t.Errorf("%s: %s holds prompt text", when, filepath.Base(f))
			}
		}
	}
	for _, how := range []struct {
		name string
		drop func(id string) error
	}{
		{"mapping saved without keeping", func(id string) error {
			return s.CompleteUpload(ctx, &Upload{ID: id, Summary: []byte("{}"), Profile: []byte{1}})
		}},
		{"discarded", func(id string) error { return s.DeleteUpload(ctx, id) }},
		{"expired", func(id string) error {
			_, err := s.DeleteWaitingUploads(ctx, time.Now().Add(time.Minute))
			return err
		}},
		{"kept, then deleted", func(id string) error {
			if err := s.CompleteUpload(ctx, &Upload{ID: id, Summary: []byte("{}"), Profile: []byte{1}, RawBytes: 1}); err != nil {
				return err
			}
			return s.DeleteRaw(ctx, id)
		}},
	} {
		u := Upload{ArchitectureID: arch, Name: "odd.csv", Status: UploadMapping}
		if err := s.CreateUploadWithRaw(ctx, &u, bytes.NewReader(log)); err != nil {
			t.Fatal(err)
		}
		if err := how.drop(u.ID); err != nil {
			t.Fatalf("%s: %v", how.name, err)
		}
		scan(how.name)
	}
}
