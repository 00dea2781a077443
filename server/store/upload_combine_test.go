package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatewise/server/store/storetest"
)

// Uploads that combine several logs, on every database gatewise supports,
// as in store_test.go: SQLite always, PostgreSQL with GATEWISE_TEST_POSTGRES.

func TestUploadLogsSQLite(t *testing.T) {
	runUploadLogsSuite(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "gatewise.db") })
}

func TestUploadLogsPostgres(t *testing.T) {
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run the upload logs suite on PostgreSQL")
	}
	runUploadLogsSuite(t, func(t *testing.T) string { return storetest.Schema(t, base) })
}

func runUploadLogsSuite(t *testing.T, fresh func(t *testing.T) string) {
	t.Run("AddAndReplace", func(t *testing.T) { testUploadLogsAdd(t, openStore(t, fresh(t))) })
	t.Run("FailureLeavesTheUpload", func(t *testing.T) { testUploadLogsFailure(t, openStore(t, fresh(t))) })
	t.Run("OwnersAndWaiting", func(t *testing.T) { testUploadLogsScope(t, openStore(t, fresh(t))) })
}

func firstLog() UploadLog {
	return UploadLog{Seq: 1, Name: "spend.csv", SHA256: "aa", Summary: []byte(`{"requests":120}`), IDs: []byte("ids-1"), Details: `{"id_column":"request_id"}`}
}

func testUploadLogsAdd(t *testing.T, s *Store) {
	ctx := t.Context()
	up := Upload{ArchitectureID: rawArchitecture(t, s), Name: "spend.csv", Summary: []byte(`{"requests":120}`), Profile: []byte("p1"),
		Logs: []UploadLog{firstLog()}}
	if err := s.CreateUpload(ctx, &up); err != nil {
		t.Fatal(err)
	}
	logs, err := s.UploadLogs(ctx, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].Name != "spend.csv" || logs[0].SHA256 != "aa" || len(logs[0].Profile) != 0 || string(logs[0].IDs) != "ids-1" {
		t.Fatalf("stored with the upload: %+v", logs)
	}
	if up.Revision != 0 {
		t.Errorf("a new upload's revision is %d", up.Revision)
	}

	// The second file: the first gets its own profile, the upload the
	// combination's.
	one := firstLog()
	one.Profile = []byte("p1")
	two := UploadLog{Seq: 2, Name: "errors.csv", SHA256: "bb", Summary: []byte(`{"requests":20}`), Profile: []byte("p2"), Details: `{}`}
	next := Upload{ID: up.ID, Name: "spend.csv + errors.csv", Summary: []byte(`{"requests":140}`), Profile: []byte("p1+p2")}
	if err := s.SaveUploadLogs(ctx, &next, 0, []UploadLog{one, two}); err != nil {
		t.Fatal(err)
	}
	if next.Revision != 1 || next.Name != "spend.csv + errors.csv" || string(next.Profile) != "p1+p2" || next.ArchitectureID != up.ArchitectureID {
		t.Errorf("after adding: %+v", next)
	}
	logs, err = s.UploadLogs(ctx, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || string(logs[0].Profile) != "p1" || logs[1].Name != "errors.csv" || len(logs[1].IDs) != 0 || string(logs[1].Summary) != `{"requests":20}` {
		t.Errorf("files: %+v", logs)
	}
	// A change built on revision 0 is stale now.
	stale := Upload{ID: up.ID, Name: "x", Summary: []byte(`{}`), Profile: []byte("x")}
	if err := s.SaveUploadLogs(ctx, &stale, 0, nil); !errors.Is(err, ErrChanged) {
		t.Errorf("stale revision: %v", err)
	}
	// A choice changes a file in place.
	two.Details = `{"overlap":"drop"}`
	again := Upload{ID: up.ID, Name: next.Name, Summary: []byte(`{"requests":130}`), Profile: []byte("p1+p2'")}
	if err := s.SaveUploadLogs(ctx, &again, 1, []UploadLog{two}); err != nil {
		t.Fatal(err)
	}
	logs, _ = s.UploadLogs(ctx, up.ID)
	if len(logs) != 2 || logs[1].Details != `{"overlap":"drop"}` || again.Revision != 2 {
		t.Errorf("after the choice: revision %d, %+v", again.Revision, logs)
	}
	// Deleting the architecture takes the files along.
	if err := s.DeleteArchitecture(ctx, up.ArchitectureID); err != nil {
		t.Fatal(err)
	}
	var n int64
	s.db.Model(&uploadLogRow{}).Count(&n)
	if n != 0 {
		t.Errorf("%d files outlive their upload", n)
	}
}

func testUploadLogsFailure(t *testing.T, s *Store) {
	ctx := t.Context()
	up := Upload{ArchitectureID: rawArchitecture(t, s), Name: "spend.csv", Summary: []byte(`{}`), Profile: []byte("p1"), Logs: []UploadLog{firstLog()}}
	if err := s.CreateUpload(ctx, &up); err != nil {
		t.Fatal(err)
	}
	// The second file saves, the third does not: nothing of it stays.
	bad := Upload{ID: up.ID, Name: "three files", Summary: []byte(`{}`), Profile: []byte("p123")}
	err := s.SaveUploadLogs(ctx, &bad, 0, []UploadLog{{Seq: 2, Name: "b"}, {Seq: 0, Name: "c"}})
	if err == nil || !strings.Contains(err.Error(), "seq 0") {
		t.Fatalf("bad seq: %v", err)
	}
	got, err := s.Upload(ctx, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "spend.csv" || got.Revision != 0 || !bytes.Equal(got.Profile, []byte("p1")) {
		t.Errorf("after a failed save: %+v", got)
	}
	if logs, _ := s.UploadLogs(ctx, up.ID); len(logs) != 1 {
		t.Errorf("after a failed save: %d files", len(logs))
	}
	// A file of a new upload that cannot be stored leaves no upload.
	before, _ := s.ListUploads(ctx, up.ArchitectureID)
	broken := Upload{ArchitectureID: up.ArchitectureID, Name: "x", Summary: []byte(`{}`), Logs: []UploadLog{{Seq: 1}, {Seq: 1}}}
	if err := s.CreateUpload(ctx, &broken); err == nil {
		t.Fatal("two files with one seq were stored")
	}
	if after, _ := s.ListUploads(ctx, up.ArchitectureID); len(after) != len(before) {
		t.Errorf("a failed create left an upload: %d, then %d", len(before), len(after))
	}
}

func testUploadLogsScope(t *testing.T, s *Store) {
	alice := AsOwner(t.Context(), "alice")
	bob := AsOwner(t.Context(), "bob")
	up := Upload{ArchitectureID: rawArchitecture(t, s), Name: "spend.csv", Summary: []byte(`{}`), Profile: []byte("p1"), Logs: []UploadLog{firstLog()}}
	// rawArchitecture made an unowned architecture; alice stores her own.
	a := Architecture{Name: "a", Spec: []byte("{}")}
	if err := s.CreateArchitecture(alice, &a); err != nil {
		t.Fatal(err)
	}
	up.ArchitectureID = a.ID
	if err := s.CreateUpload(alice, &up); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadLogs(bob, up.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob reads alice's files: %v", err)
	}
	other := Upload{ID: up.ID, Name: "bob's", Summary: []byte(`{}`), Profile: []byte("x")}
	if err := s.SaveUploadLogs(bob, &other, 0, []UploadLog{{Seq: 2, Name: "b"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob adds to alice's upload: %v", err)
	}
	if logs, _ := s.UploadLogs(alice, up.ID); len(logs) != 1 {
		t.Errorf("bob's attempt left %d files", len(logs))
	}
	waiting := Upload{ArchitectureID: a.ID, Name: "w.csv", Status: UploadMapping}
	if err := s.CreateUploadWithRaw(alice, &waiting, strings.NewReader("a,b\n1,2\n")); err != nil {
		t.Fatal(err)
	}
	w := Upload{ID: waiting.ID, Name: "w", Summary: []byte(`{}`), Profile: []byte("x")}
	if err := s.SaveUploadLogs(alice, &w, 0, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("adding to an upload that waits for its mapping: %v", err)
	}
	// Completing the mapping stores its first file.
	done := Upload{ID: waiting.ID, Summary: []byte(`{"requests":1}`), Profile: []byte("p"), ReadOptions: "{}", Logs: []UploadLog{{Seq: 1, Name: "w.csv", SHA256: "cc"}}}
	if err := s.CompleteUpload(alice, &done); err != nil {
		t.Fatal(err)
	}
	if logs, _ := s.UploadLogs(alice, waiting.ID); len(logs) != 1 || logs[0].SHA256 != "cc" {
		t.Errorf("completed upload's files: %+v", logs)
	}
}
