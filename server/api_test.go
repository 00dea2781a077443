package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"gatewise"
)

type apiError struct {
	Error struct {
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func TestAPICreateAndGetArchitecture(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	data, err := gatewise.Example("multi-region")
	if err != nil {
		t.Fatal(err)
	}
	rec := do(t, h, "POST", "/api/v1/architectures", strings.NewReader(string(data)), http.Header{"Content-Type": {"application/yaml"}})
	wantStatus(t, rec, http.StatusCreated)
	var created apiArchitecture
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Name != "Support assistant, 5 providers, 3 regions" || len(created.Architecture.Routes) != 3 ||
		rec.Header().Get("Location") != "/api/v1/architectures/"+created.ID || created.URL != "/architectures/"+created.ID {
		t.Errorf("created = %+v, Location %q", created, rec.Header().Get("Location"))
	}

	rec = do(t, h, "GET", "/api/v1/architectures/"+created.ID, nil, nil)
	wantStatus(t, rec, http.StatusOK)
	var got apiArchitecture
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Architecture.Simulation.Seed != 42 || got.Architecture.Traffic.Origin["eu"] != 0.35 {
		t.Errorf("got = %+v", got)
	}
	// The same architecture as JSON is accepted too, and the browser page exists.
	body, _ := json.Marshal(got.Architecture)
	wantStatus(t, do(t, h, "POST", "/api/v1/architectures", strings.NewReader(string(body)), http.Header{"Content-Type": {"application/json"}}), http.StatusCreated)
	wantStatus(t, do(t, h, "GET", created.URL, nil, nil), http.StatusOK)
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	cases := []struct {
		name, method, target, body string
		status                     int
		field, message             string
	}{
		{"unknown key", "POST", "/api/v1/architectures", "name: x\nroutes:\n  - nme: a\n", 422, "routes[0].nme", "unknown key"},
		{"syntax", "POST", "/api/v1/architectures", "{\"name\": \"x\",}", 422, "file", "line 1"},
		{"missing", "GET", "/api/v1/architectures/nope", "", 404, "", "nothing here"},
		{"too large", "POST", "/api/v1/architectures", strings.Repeat("a", 3<<20), 413, "", "too large"},
	}
	for _, c := range cases {
		rec := do(t, h, c.method, c.target, strings.NewReader(c.body), http.Header{"Content-Type": {"application/yaml"}})
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d\n%s", c.name, rec.Code, c.status, rec.Body)
			continue
		}
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Errorf("%s: not JSON: %s", c.name, rec.Body)
			continue
		}
		if !strings.Contains(e.Error.Message+e.Error.Fields[c.field], c.message) || (c.field != "" && e.Error.Fields[c.field] == "") {
			t.Errorf("%s: error %+v", c.name, e.Error)
		}
	}
	wantBody(t, do(t, h, "GET", "/architectures", nil, nil), "Saved (0)")
}

// Every API route the server registers is in the OpenAPI file, with its
// method.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	rec := do(t, h, "GET", "/api/openapi.yaml", nil, nil)
	wantStatus(t, rec, http.StatusOK)
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		path := regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not in openapi.yaml", r.Method, path)
		}
	}
}
