package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"gatewise/server/store"
)

// Without a worker, runs wait in line and their pages and the API say where.
func TestQueuedRunsShowTheirPlace(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	var runs []string
	for range 2 {
		rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}})
		wantStatus(t, rec, http.StatusSeeOther)
		runs = append(runs, runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1])
	}
	wantBody(t, do(t, h, "GET", "/runs/"+runs[0], nil, nil), "Next in the queue")
	wantBody(t, do(t, h, "GET", "/runs/"+runs[1], nil, nil), "Number 2 in the queue: 1 run starts before it.")

	rec := do(t, h, "GET", "/api/v1/runs/"+runs[1], nil, nil)
	wantStatus(t, rec, http.StatusOK)
	var got apiRun
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != store.RunQueued || got.Progress.QueuePosition != 2 || got.Progress.SecondsLeft != 0 {
		t.Errorf("API run = %+v; want queued at position 2, no estimate", got)
	}
}

func TestTimeLeft(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	running := store.Run{Status: store.RunRunning, Done: 25, Total: 100, StartedAt: start}
	// 25 trials in 10 s is 0.4 s a trial; 75 to go is 30 s, exactly.
	if d, ok := timeLeft(running, start.Add(10*time.Second)); !ok || d != 30*time.Second {
		t.Errorf("timeLeft = %v, %v; want 30s", d, ok)
	}
	for _, r := range []store.Run{
		{Status: store.RunRunning, Done: 0, Total: 100, StartedAt: start},        // no pace yet
		{Status: store.RunQueued, Done: 0, Total: 100},                           // not started
		{Status: store.RunDone, Done: 100, Total: 100, StartedAt: start},         // nothing left
		{Status: store.RunRunning, Done: 10, Total: 100, StartedAt: time.Time{}}, // start unknown (run from before migration 4)
	} {
		if d, ok := timeLeft(r, start.Add(time.Minute)); ok {
			t.Errorf("timeLeft(%+v) = %v; want no estimate", r, d)
		}
	}
	for d, want := range map[time.Duration]string{
		3 * time.Second:   "a few seconds",
		42 * time.Second:  "about 40 seconds",
		7 * time.Minute:   "about 7 minutes",
		150 * time.Minute: "about 2.5 hours",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
