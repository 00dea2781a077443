package gatewise

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// These tests check what can be checked without a container engine: the
// Dockerfile's stages and settings, that its exact build command makes a
// static binary, that .dockerignore keeps every file the binary is built
// from, and that compose.yaml's services, health checks and variables are
// ones gatewise reads. TestPodman, further down, builds the image and
// starts compose.yaml with podman when GATEWISE_PODMAN=1.

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
	// The database's image may be another one's (a mirror, a pinned
	// digest) through GATEWISE_POSTGRES_IMAGE; the default is PostgreSQL's.
	dbImage := db.Image
	if m := regexp.MustCompile(`^\$\{GATEWISE_POSTGRES_IMAGE:-([^}]+)\}$`).FindStringSubmatch(dbImage); m != nil {
		dbImage = m[1]
	}
	if len(c.Services) != 3 || !regexp.MustCompile(`^postgres:1[56](\.|-|$)`).MatchString(dbImage) {
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

// The tests below build the image and start compose.yaml for real, with
// podman, when GATEWISE_PODMAN=1; tools/container-check/run.sh sets podman
// up on a Debian machine (with local stand-ins for the base images where
// no registry can be reached) and runs them. .ci/run leaves them off: they
// take minutes and need root and podman.

// podmanCmd runs podman and returns what it printed on its standard output.
func podmanCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podmanTry(args...)
	if err != nil {
		t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// podmanTry is podmanCmd for a command that may fail: the error carries
// what podman said on its standard error.
func podmanTry(args ...string) (string, error) {
	var stderr strings.Builder
	c := exec.Command("podman", args...)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return string(out), fmt.Errorf("%v: %s%s", err, out, podmanNoise.ReplaceAllString(stderr.String(), ""))
	}
	return string(out), nil
}

// podmanNoise is what podman 4 says on every start of a container with a
// health check where systemd does not run, which schedules the checks.
var podmanNoise = regexp.MustCompile(`(?m)^.*unable to get systemd connection.*\n`)

// podmanLogs is what a container wrote on its standard output and error.
func podmanLogs(t *testing.T, container string) string {
	t.Helper()
	out, err := exec.Command("podman", "logs", container).CombinedOutput()
	if err != nil {
		t.Fatalf("podman logs %s: %v\n%s", container, err, out)
	}
	return podmanNoise.ReplaceAllString(string(out), "")
}

// httpGet answers a GET: its status and body.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, body
}

// waitHealthy waits for base/healthz to answer 200 with the database kind.
func waitHealthy(t *testing.T, base, database string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			var h struct{ Status, Database string }
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if err == nil && resp.StatusCode == 200 && h.Status == "ok" {
				if h.Database != database {
					t.Fatalf("%s/healthz: database %q, want %q", base, h.Database, database)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz did not answer ok within 90s (last: %v)", base, err)
		}
		time.Sleep(time.Second)
	}
}

// simulate creates the bundled multi-region architecture through the JSON
// API, runs it with the given trials until it is done, and returns the
// run's id and its memo.
func simulate(t *testing.T, base string, trials int) (id, memo string) {
	t.Helper()
	example, err := os.ReadFile("testdata/examples/multi-region.yaml")
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, ctype, body string, out any) {
		t.Helper()
		resp, err := http.Post(base+path, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 201 && resp.StatusCode != 202 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, data)
		}
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("POST %s: %v: %s", path, err, data)
		}
	}
	var arch, run struct{ ID string }
	post("/api/v1/architectures", "application/yaml", string(example), &arch)
	post("/api/v1/runs", "application/json", fmt.Sprintf(`{"architecture_id": %q, "trials": %d, "seed": 7}`, arch.ID, trials), &run)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		code, body := httpGet(t, base+"/api/v1/runs/"+run.ID)
		var r struct {
			Status   string
			Progress struct{ Done, Total int }
			Result   json.RawMessage
		}
		if err := json.Unmarshal(body, &r); code != 200 || err != nil {
			t.Fatalf("GET run: %d %v %s", code, err, body)
		}
		if r.Status == "done" {
			if r.Progress.Done != trials || r.Progress.Total != trials || len(r.Result) < 1000 {
				t.Fatalf("run done with progress %+v and a result of %d bytes; want %d trials and the result", r.Progress, len(r.Result), trials)
			}
			break
		}
		if r.Status != "queued" && r.Status != "running" || time.Now().After(deadline) {
			t.Fatalf("run %s: status %q, progress %+v", run.ID, r.Status, r.Progress)
		}
		time.Sleep(2 * time.Second)
	}
	code, body := httpGet(t, base+"/api/v1/runs/"+run.ID+"/memo.md")
	if code != 200 || !strings.HasPrefix(string(body), "---\ntitle: \"Support assistant, 5 providers, 3 regions\"\n") || !strings.Contains(string(body), "\nchosen: ") {
		t.Fatalf("memo.md: %d %.200s", code, body)
	}
	return run.ID, string(body)
}

// processUID is the user id a running container's first process runs as,
// read from /proc on this machine.
func processUID(t *testing.T, container string) string {
	t.Helper()
	pid := strings.TrimSpace(podmanCmd(t, "inspect", "--format", "{{.State.Pid}}", container))
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)`).FindStringSubmatch(string(status))
	if m == nil || m[1] != m[2] {
		t.Fatalf("/proc/%s/status: %s", pid, status)
	}
	return m[1]
}

// TestPodman builds the image from the Dockerfile, runs it alone on a
// volume, then starts compose.yaml and runs a simulation that the server
// and the worker share.
func TestPodman(t *testing.T) {
	if os.Getenv("GATEWISE_PODMAN") != "1" {
		t.Skip("builds and starts the image and compose.yaml with podman: run tools/container-check/run.sh, or GATEWISE_PODMAN=1 go test -run TestPodman -v . where podman has the base images")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("GATEWISE_PODMAN=1, but podman is not on PATH")
	}
	t.Run("image", podmanImage)
	if t.Failed() {
		return
	}
	t.Run("compose", podmanCompose)
}

func podmanImage(t *testing.T) {
	// --format docker keeps the HEALTHCHECK, which the OCI format has no
	// field for; --pull=never builds on the base images podman has.
	build := exec.Command("podman", "build", "--pull=never", "--format", "docker", "-t", "gatewise:local", "--build-arg", "VERSION=podman-test", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("podman build: %v\n%s", err, out)
	}
	inspect := podmanCmd(t, "image", "inspect", "--format", "{{.Size}}|{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}", "gatewise:local")
	f := strings.Split(strings.TrimSpace(inspect), "|")
	t.Logf("gatewise:local: %s bytes, user %s, health check %s", f[0], f[1], f[2])
	if size, _ := strconv.Atoi(f[0]); size < 10<<20 || size > 100<<20 || f[1] != "65532:65532" || f[2] != `["CMD","/gatewise","healthcheck"]` || f[3] != `["/gatewise"]` || f[4] != `["serve"]` {
		t.Fatalf("image: size %s, user %s, health check %s, entrypoint %s, cmd %s", f[0], f[1], f[2], f[3], f[4])
	}
	if v := podmanCmd(t, "run", "--rm", "gatewise:local", "version"); v != "gatewise podman-test\n" {
		t.Errorf("gatewise version in the image: %q", v)
	}
	// No shell in the image: the binary is all there is to run.
	if _, err := podmanTry("run", "--rm", "--entrypoint", "/bin/sh", "gatewise:local", "-c", "true"); err == nil {
		t.Error("the image runs /bin/sh")
	}

	name := fmt.Sprintf("gatewise-test-%d", os.Getpid())
	podmanCmd(t, "volume", "create", name)
	t.Cleanup(func() {
		podmanTry("rm", "-f", "-t", "5", name)
		podmanTry("volume", "rm", "-f", name)
	})
	start := func() string {
		podmanCmd(t, "run", "-d", "--name", name, "-p", "127.0.0.1::8080", "-v", name+":/data", "gatewise:local")
		port := strings.TrimSpace(podmanCmd(t, "port", name, "8080/tcp"))
		base := "http://" + port
		waitHealthy(t, base, "sqlite")
		return base
	}
	base := start()
	if uid := processUID(t, name); uid != "65532" {
		t.Errorf("gatewise runs as user %s, want 65532", uid)
	}
	if out, err := podmanTry("healthcheck", "run", name); err != nil {
		t.Errorf("the image's HEALTHCHECK: %v", err)
	} else if status := strings.TrimSpace(podmanCmd(t, "inspect", "--format", "{{.State.Health.Status}}", name)); status != "healthy" {
		t.Errorf("after podman healthcheck run (%q): %s", out, status)
	}
	id, memo := simulate(t, base, 2000)

	// The SQLite file is on the volume, the non-root user's, and outlives
	// the container.
	dir := strings.TrimSpace(podmanCmd(t, "volume", "inspect", "--format", "{{.Mountpoint}}", name))
	if owner, err := exec.Command("stat", "-c", "%u:%g", filepath.Join(dir, "gatewise.db")).Output(); err != nil || string(owner) != "65532:65532\n" {
		t.Errorf("gatewise.db on the volume is owned by %q (%v), want 65532:65532", owner, err)
	}
	podmanCmd(t, "stop", "-t", "10", name)
	if logs := podmanLogs(t, name); !strings.Contains(logs, "shutting down") {
		t.Errorf("gatewise did not shut down on podman stop's SIGTERM; its log:\n%s", logs)
	}
	podmanCmd(t, "rm", name)
	base = start()
	if code, body := httpGet(t, base+"/api/v1/runs/"+id+"/memo.md"); code != 200 || string(body) != memo {
		t.Errorf("after a new container on the same volume, the run's memo: %d, %d bytes (was %d)", code, len(body), len(memo))
	}
}

// composeService is the name of the container of service in project.
func composeService(t *testing.T, project, service string) string {
	t.Helper()
	names := strings.Fields(podmanCmd(t, "ps", "-a", "--filter", "label=com.docker.compose.project="+project,
		"--filter", "label=com.docker.compose.service="+service, "--format", "{{.Names}}"))
	if len(names) != 1 {
		t.Fatalf("containers of %s: %q, want one", service, names)
	}
	return names[0]
}

func podmanCompose(t *testing.T) {
	// GATEWISE_COMPOSE is the compose command with its own options (files):
	// podman-compose by default, or Docker Compose against podman's API.
	composeCmd := strings.Fields(os.Getenv("GATEWISE_COMPOSE"))
	if len(composeCmd) == 0 {
		composeCmd = []string{"podman-compose"}
	}
	const project = "gatewise-test"
	t.Setenv("GATEWISE_DB_PASSWORD", fmt.Sprintf("test%x", time.Now().UnixNano()))
	for _, v := range []string{"GATEWISE_METRICS_TOKEN", "GATEWISE_USERS", "GATEWISE_AUTH_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		t.Setenv(v, "")
	}
	run := func(args ...string) string {
		t.Helper()
		c := exec.Command(composeCmd[0], append(append(slices.Clone(composeCmd[1:]), "-p", project), args...)...)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", strings.Join(composeCmd, " "), strings.Join(args, " "), err, podmanNoise.ReplaceAllString(string(out), ""))
		}
		return string(out)
	}
	if c, err := net.Dial("tcp", "127.0.0.1:8080"); err == nil {
		c.Close()
		t.Fatal("something already listens on 127.0.0.1:8080, where compose.yaml publishes gatewise")
	}
	t.Cleanup(func() { run("down", "-v") })

	// Where systemd does not run, podman runs a container's health check
	// only when asked: this asks every 2s, as systemd's timer would, so
	// that compose's service_healthy can be met.
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		for {
			ids, _ := podmanTry("ps", "-q", "--filter", "label=com.docker.compose.project="+project)
			for _, id := range strings.Fields(ids) {
				podmanTry("healthcheck", "run", id)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	defer func() { close(stop); <-ticked }()
	waitStatus := func(c, want string) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
			got := strings.TrimSpace(podmanCmd(t, "inspect", "--format", "{{.State.Health.Status}}", c))
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is %s after 2 minutes, want %s", c, got, want)
			}
		}
	}

	// The database first (podman-compose 1.0 does not wait for a
	// dependency's health), then the rest.
	run("up", "-d", "db")
	db := composeService(t, project, "db")
	waitStatus(db, "healthy")
	run("up", "-d")
	srv, wrk := composeService(t, project, "gatewise"), composeService(t, project, "worker")
	waitHealthy(t, "http://127.0.0.1:8080", "postgres")
	for _, c := range []string{db, srv, wrk} {
		if state := strings.TrimSpace(podmanCmd(t, "inspect", "--format", "{{.State.Status}}", c)); state != "running" {
			t.Errorf("%s is %s", c, state)
		}
	}
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec compose
	if err := yaml.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	for service, c := range map[string]string{"db": db, "gatewise": srv, "worker": wrk} {
		// Each service's health check as compose.yaml writes it, run in its
		// container.
		test := spec.Services[service].Healthcheck.Test
		args := append([]string{"exec", c}, test[1:]...)
		if test[0] == "CMD-SHELL" {
			args = []string{"exec", c, "/bin/sh", "-c", test[1]}
		}
		if _, err := podmanTry(args...); err != nil {
			t.Errorf("%s's health check %q: %v", service, test, err)
		}
		// And as the compose tool gave it to podman: healthy, where the tool
		// kept it as it is (podman-compose 1.0 turns an exec-form test into
		// a shell command, which an image without a shell cannot run).
		var given []string
		if err := json.Unmarshal([]byte(podmanCmd(t, "inspect", "--format", "{{json .Config.Healthcheck.Test}}", c)), &given); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(given, test) {
			waitStatus(c, "healthy")
		} else {
			t.Logf("%s: the compose tool gave podman the health check %q for %q", service, given, test)
		}
	}
	if uid := processUID(t, srv); uid != "65532" {
		t.Errorf("the server runs as user %s", uid)
	}
	slogs, wlogs := podmanLogs(t, srv), podmanLogs(t, wrk)
	if !strings.Contains(slogs, `"msg":"job queue started"`) || !strings.Contains(slogs, `"database":"postgres"`) || !strings.Contains(wlogs, `"msg":"gatewise worker is working runs"`) {
		t.Fatalf("the server's log:\n%s\nthe worker's:\n%s", slogs, wlogs)
	}

	// 20,000 trials in ranges of the worker's GATEWISE_TRIALS_PER_JOB, 5000.
	id, _ := simulate(t, "http://127.0.0.1:8080", 20000)
	psql := func(sql string) string {
		return strings.TrimSpace(podmanCmd(t, "exec", db, "psql", "-U", "gatewise", "-d", "gatewise", "-Atc", sql))
	}
	if row := psql("SELECT status, done, total, chosen <> '', length(result) > 1000, length(memo) > 1000 FROM runs WHERE id = '" + id + "'"); row != "done|20000|20000|t|t|t" {
		t.Errorf("the run's row in PostgreSQL: %q", row)
	}
	// Which process worked each range: River records the client, named
	// after the container's host name.
	hostname := strings.TrimSpace(podmanCmd(t, "inspect", "--format", "{{.Config.Hostname}}", wrk))
	ranges := strings.Fields(psql("SELECT attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE kind = 'gatewise_trials' AND state = 'completed'"))
	byWorker := 0
	for _, client := range ranges {
		if strings.HasPrefix(client, hostname+"_") {
			byWorker++
		}
	}
	_, metrics := httpGet(t, "http://127.0.0.1:8080/metrics")
	m := regexp.MustCompile(`(?m)^gatewise_trials_total (\d+)$`).FindSubmatch(metrics)
	if m == nil {
		t.Fatalf("the server's /metrics has no gatewise_trials_total")
	}
	byServer, _ := strconv.Atoi(string(m[1]))
	t.Logf("%d ranges of 5000 trials, %d worked by the worker; the server simulated %d trials", len(ranges), byWorker, byServer)
	if len(ranges) != 4 || byWorker == 0 || byServer+5000*byWorker != 20000 {
		t.Errorf("ranges %q (worker's host %s), the server's trials %d: want 4 ranges, some of them the worker's", ranges, hostname, byServer)
	}

	run("down", "-v")
	if left := podmanCmd(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+project); left != "" {
		t.Errorf("containers left after down: %s", left)
	}
}
