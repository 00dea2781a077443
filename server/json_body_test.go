package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// Bad JSON sent to the API answered with Go's decoder text
// ("apiRunRequest.RunOptions.seed of type uint64"): each answer now names
// the JSON field and what it must be, or the line and column of bad
// syntax, and stores nothing.
func TestAPIJSONErrorsSpeakJSON(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	json := http.Header{"Content-Type": {"application/json"}}
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"architecture_id": "ID", "seed": "abc"}`, http.StatusBadRequest, `"fields":{"seed":"must be a whole number, 0 or more"},"message":"seed must be a whole number, 0 or more, not string."`},
		{`{"architecture_id": "ID", "trials": 1.5}`, http.StatusBadRequest, `trials must be a whole number, not number`},
		{`{"architecture_id": "ID", "gateways": "portkey"}`, http.StatusBadRequest, `gateways must be a list, not string`},
		{`{"architecture_id": "ID", "seeds": 4}`, http.StatusBadRequest, `The body has a field \"seeds\" that this request does not take.`},
		{"{\n  \"architecture_id\": \"x\",\n  \"trials\": 10,,\n}", http.StatusBadRequest, `The body is not valid JSON at line 3, column 16: invalid character ',' looking for beginning of object key string.`},
		{`{"architecture_id": "ID"`, http.StatusBadRequest, `The body's JSON ends before it is complete.`},
		{``, http.StatusBadRequest, `The body is empty; send a JSON object.`},
		{`[1, 2]`, http.StatusBadRequest, `The body must be a JSON object, not array.`},
		{`{"architecture_id": "x"} {"architecture_id": "y"}`, http.StatusBadRequest, `The body must be one JSON object; more follows at line 1, column 26.`},
	} {
		rec := do(t, h, "POST", "/api/v1/runs", strings.NewReader(strings.ReplaceAll(c.body, "ID", id)), json)
		wantStatus(t, rec, c.status)
		wantBody(t, rec, c.want)
		if body := rec.Body.String(); strings.Contains(body, "apiRunRequest") || strings.Contains(body, "uint64") || strings.Contains(body, "Go struct") {
			t.Errorf("%s: the answer names Go's types: %s", c.body, body)
		}
	}
	if runs, err := s.store.ListRuns(context.Background(), 10, 0); err != nil || len(runs) != 0 {
		t.Errorf("refused bodies stored %d runs (%v)", len(runs), err)
	}
}
