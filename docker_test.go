package gatewise

import (
	"bufio"
	"debug/elf"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// No Docker engine runs where these tests run, so they check what can be
// checked without one: the Dockerfile's stages and settings, that its exact
// build command makes a static binary, that .dockerignore keeps every file
// the binary is built from, and that compose.yaml's services, health checks
// and variables are ones gatewise reads.

// dockerfile is the Dockerfile's instructions, continuation lines joined.
func dockerfile(t *testing.T) [][2]string {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cur += line
		instr, args, _ := strings.Cut(cur, " ")
		out = append(out, [2]string{strings.ToUpper(instr), strings.TrimSpace(args)})
		cur = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// goVersion is the go directive of go.mod.
func goVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

// buildCommand is the RUN of the build stage that builds the binary.
func buildCommand(t *testing.T, instrs [][2]string) string {
	t.Helper()
	for _, in := range instrs {
		if in[0] == "RUN" && strings.Contains(in[1], "go build") {
			return in[1]
		}
	}
	t.Fatal("the Dockerfile has no RUN ... go build")
	return ""
}

// The image builds with the Go of go.mod, statically, without the
// builder's paths, and runs the binary alone as a non-root user on a base
// with no shell, answering its health check itself.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	instrs := dockerfile(t)
	var froms []string
	var last [][2]string // the final stage's instructions
	args := map[string]string{}
	for _, in := range instrs {
		switch in[0] {
		case "FROM":
			froms = append(froms, in[1])
			last = nil
		case "ARG":
			if k, v, ok := strings.Cut(in[1], "="); ok && len(froms) == 0 {
				args[k] = v
			}
		}
		last = append(last, in)
	}
	if len(froms) != 2 {
		t.Fatalf("stages %v, want a build stage and the image", froms)
	}
	if want := goVersion(t); args["GO_VERSION"] != want || !strings.HasPrefix(froms[0], "golang:${GO_VERSION}") || !strings.HasSuffix(froms[0], " AS build") {
		t.Errorf("build stage FROM %q with GO_VERSION %q; want golang at go.mod's %s", froms[0], args["GO_VERSION"], want)
	}
	if froms[1] != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("image FROM %q; want distroless's static base", froms[1])
	}
	build := buildCommand(t, instrs)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/gatewise", "-o /out/gatewise"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build %q lacks %q", build, want)
		}
	}
	got := map[string][]string{}
	for _, in := range last {
		got[in[0]] = append(got[in[0]], in[1])
	}
	if !slices.Equal(got["COPY"], []string{"--from=build /out/gatewise /gatewise", "--from=build --chown=65532:65532 /out/data /data"}) {
		t.Errorf("the image copies %q; want the binary and its empty data folder only", got["COPY"])
	}
	if u := got["USER"]; len(u) != 1 || u[0] == "0" || strings.HasPrefix(u[0], "root") || strings.HasPrefix(u[0], "0:") {
		t.Errorf("USER %q; want a non-root user", u)
	}
	if !slices.Equal(got["EXPOSE"], []string{"8080"}) || !slices.Equal(got["ENTRYPOINT"], []string{`["/gatewise"]`}) ||
		!slices.Equal(got["CMD"], []string{`["serve"]`}) || len(got["RUN"]) != 0 {
		t.Errorf("EXPOSE %q ENTRYPOINT %q CMD %q RUN %q", got["EXPOSE"], got["ENTRYPOINT"], got["CMD"], got["RUN"])
	}
	if hc := got["HEALTHCHECK"]; len(hc) != 1 || !strings.HasSuffix(hc[0], `CMD ["/gatewise", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q; want gatewise's own healthcheck", hc)
	}
	env := strings.Join(got["ENV"], " ")
	if addr := regexp.MustCompile(`GATEWISE_ADDR=(\S+)`).FindStringSubmatch(env); addr == nil || !strings.HasSuffix(addr[1], ":8080") {
		t.Errorf("ENV %q: GATEWISE_ADDR should listen on the exposed 8080", env)
	}
}

// The Dockerfile's own build command, run here, makes a static binary:
// no interpreter and no shared library, so it runs on a base with no libc.
func TestDockerBuildIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatewise")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "gatewise")
	cmd := strings.ReplaceAll(buildCommand(t, dockerfile(t)), "${VERSION}", "image-test")
	cmd = strings.ReplaceAll(cmd, "-o /out/gatewise", "-o "+out)
	c := exec.Command("sh", "-c", cmd)
	c.Env = append(os.Environ(), "GOFLAGS=")
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs %v", libs)
	}
	v, err := exec.Command(out, "version").Output()
	if err != nil || string(v) != "gatewise image-test\n" {
		t.Errorf("gatewise version: %q, %v; want the version the build was given", v, err)
	}
}

// dockerignore is a matcher with Docker's rules: a path is left out when
// the last pattern that matches it or one of its parent folders is not a
// "!" exception.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	data, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		negate := strings.HasPrefix(line, "!")
		p := strings.TrimPrefix(filepath.Clean(strings.TrimPrefix(line, "!")), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		re.WriteString("$")
		d = append(d, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile(re.String()), negate})
	}
	return d
}

func (d dockerignore) excludes(path string) bool {
	out := false
	for _, p := range d {
		match := false
		for q := path; q != "." && q != "/"; q = filepath.Dir(q) {
			if p.re.MatchString(q) {
				match = true
				break
			}
		}
		if match {
			out = !p.negate
		}
	}
	return out
}

// Every file the binary is built from (Go files and embedded files of the
// module's packages it imports, go.mod, go.sum) reaches the image's build,
// and what only the tests and the repository use does not.
func TestDockerignoreKeepsWhatTheBuildNeeds(t *testing.T) {
	t.Parallel()
	ign := readDockerignore(t)
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if eq .Module.Path "gatewise"}}{{.Dir}}|{{join .GoFiles ","}},{{join .EmbedFiles ","}}{{end}}{{end}}`, "./cmd/gatewise").Output()
	if err != nil {
		t.Fatal(err)
	}
	needed := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, files, _ := strings.Cut(line, "|")
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Split(files, ",") {
			if f != "" {
				needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
			}
		}
	}
	if !slices.Contains(needed, "testdata/examples/multi-region.yaml") {
		t.Fatalf("go list found %d files, not the embedded examples: %v", len(needed), needed)
	}
	for _, f := range needed {
		if ign.excludes(f) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", f)
		}
	}
	for _, f := range []string{".git/HEAD", "simulator/traffic/testdata/golden/read.txt", "gatewise.db", "gatewise", "pricing.test",
		"conformance/portkey/node_modules/x/index.js", ".ci/run"} {
		if !ign.excludes(f) {
			t.Errorf(".dockerignore sends %s to the build", f)
		}
	}
}

// compose is what compose.yaml's services say.
type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// settings are the flags of cmd/gatewise's settings table with their
// variables, and the ones the worker takes, read from the source.
func settings(t *testing.T) (envOf map[string]string, worker []string) {
	t.Helper()
	src, err := os.ReadFile("cmd/gatewise/serve.go")
	if err != nil {
		t.Fatal(err)
	}
	envOf = map[string]string{}
	for _, m := range regexp.MustCompile(`\{"([a-z-]+)", "(GATEWISE_[A-Z_]+)",`).FindAllSubmatch(src, -1) {
		envOf[string(m[1])] = string(m[2])
	}
	wsrc, err := os.ReadFile("cmd/gatewise/worker.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`workerSettings = \[\]string\{([^}]*)\}`).FindSubmatch(wsrc)
	if m == nil || len(envOf) < 15 {
		t.Fatalf("settings table of %d rows, worker settings %q", len(envOf), m)
	}
	for _, f := range strings.Split(string(m[1]), ",") {
		worker = append(worker, envOf[strings.Trim(strings.TrimSpace(f), `"`)])
	}
	return envOf, worker
}

// compose.yaml runs PostgreSQL, one server and one worker of the image,
// each with a health check; every GATEWISE_ variable it sets is one the
// command reads, and the addresses, ports and database agree.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	envOf, workerVars := settings(t)
	serveVars := []string{}
	for _, v := range envOf {
		serveVars = append(serveVars, v)
	}
	db, srv, wrk := c.Services["db"], c.Services["gatewise"], c.Services["worker"]
	if len(c.Services) != 3 || !regexp.MustCompile(`^postgres:1[56](\.|-|$)`).MatchString(db.Image) {
		t.Fatalf("services %v, db image %q; want PostgreSQL 15 or 16, gatewise and worker", c.Services, db.Image)
	}
	if srv.Build == nil || srv.Image == "" || wrk.Image != srv.Image {
		t.Errorf("gatewise builds %v as %q, worker runs %q; want the worker on the image the server builds", srv.Build, srv.Image, wrk.Image)
	}
	if !slices.Equal(srv.Command, []string{"serve"}) || !slices.Equal(wrk.Command, []string{"worker"}) {
		t.Errorf("commands %q and %q", srv.Command, wrk.Command)
	}
	for name, s := range map[string][]string{"db": db.Healthcheck.Test, "gatewise": srv.Healthcheck.Test, "worker": wrk.Healthcheck.Test} {
		if len(s) < 2 {
			t.Errorf("%s has no health check", name)
		}
	}
	if !slices.Equal(srv.Healthcheck.Test, []string{"CMD", "/gatewise", "healthcheck"}) {
		t.Errorf("gatewise's health check %q", srv.Healthcheck.Test)
	}
	for name, s := range map[string]struct {
		env  map[string]string
		vars []string
	}{"gatewise": {srv.Environment, serveVars}, "worker": {wrk.Environment, workerVars}} {
		for k := range s.env {
			if strings.HasPrefix(k, "GATEWISE_") && !slices.Contains(s.vars, k) {
				t.Errorf("%s sets %s, which gatewise %s does not read", name, k, map[string]string{"gatewise": "serve", "worker": "worker"}[name])
			}
		}
		if s.env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" {
			t.Errorf("%s does not pass OTEL_EXPORTER_OTLP_ENDPOINT through", name)
		}
		// Both reach the db service as the user and database it creates.
		u, err := url.Parse(strings.ReplaceAll(s.env["GATEWISE_DB"], "${GATEWISE_DB_PASSWORD:?set GATEWISE_DB_PASSWORD}", "pw"))
		if err != nil || u.Scheme != "postgres" || u.Hostname() != "db" || u.User.Username() != db.Environment["POSTGRES_USER"] || u.Path != "/"+db.Environment["POSTGRES_DB"] {
			t.Errorf("%s's GATEWISE_DB %q does not name the db service's database", name, s.env["GATEWISE_DB"])
		}
		if s.env["GATEWISE_DB"] == "" || srv.DependsOn["db"].Condition != "service_healthy" || wrk.DependsOn["db"].Condition != "service_healthy" {
			t.Errorf("%s does not wait for a healthy database", name)
		}
	}
	_, port, _ := net.SplitHostPort(srv.Environment["GATEWISE_ADDR"])
	if len(srv.Ports) != 1 || !strings.HasSuffix(srv.Ports[0], ":"+port) || !strings.HasPrefix(srv.Ports[0], "127.0.0.1:") {
		t.Errorf("gatewise listens on %q and publishes %q; want its port on this machine's loopback", srv.Environment["GATEWISE_ADDR"], srv.Ports)
	}
	_, mport, _ := net.SplitHostPort(wrk.Environment["GATEWISE_METRICS_ADDR"])
	if mport == "" || !slices.Equal(wrk.Healthcheck.Test, []string{"CMD", "/gatewise", "healthcheck", "--url", "http://localhost:" + mport + "/healthz"}) {
		t.Errorf("the worker's health check %q does not ask its metrics address %q", wrk.Healthcheck.Test, wrk.Environment["GATEWISE_METRICS_ADDR"])
	}
}
