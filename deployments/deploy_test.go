// Package deployments holds the container and platform files (Dockerfile,
// docker-compose.yml, render.yaml) and this test, which keeps them and the
// GitHub workflows in step with the code: the health-check path must be an
// operation of the real router, every command must be a subcommand of the
// real binary, and every environment variable must be a name that
// platform/config reads, while everything a deployed environment requires
// is declared.
package deployments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/platform/config"
)

// repoRoot is where the paths inside the files are relative to.
const repoRoot = ".."

// renderPlatformVars are read by Render, not by the service.
var renderPlatformVars = map[string]string{
	"PORT": "Render routes public HTTP traffic to this port; it must match HTTP_ADDR",
}

// ciVars are workflow variables that configure the tests or a step, not the
// service. TEST_* must be names platform/testenv reads.
var ciVars = map[string]bool{"TEST_DATABASE_URL": true, "TEST_REDIS_URL": true, "HOOK": true, "VERSION": true}

// requiredDeployed are the variables a staging or production service cannot
// start without (or, for REDIS_URL and WORKER, must not run without when
// there are several instances and a separate worker).
var requiredDeployed = []string{"APP_ENV", "DATABASE_URL", "JWT_SECRET", "REDIS_URL"}

// facts is what the files are checked against, read from the code.
type facts struct {
	configKeys  map[string]bool
	commands    map[string][]string // subcommand -> its sub-subcommands (migrate -> up, down, status)
	getPaths    map[string]bool     // GET paths of the OpenAPI document
	entrypoint  string              // the image's ENTRYPOINT binary
	testenvCode string              // source of platform/testenv
	deployDoc   string              // docs/deploy.md
}

func TestDeployFiles(t *testing.T) {
	f := loadFacts(t)
	read := func(p string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(repoRoot, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	report := func(name string, errs []error) {
		t.Helper()
		for _, e := range errs {
			t.Errorf("%s: %v", name, e)
		}
	}
	report("deployments/render.yaml", checkRender(read("deployments/render.yaml"), f))
	report("deployments/docker-compose.yml", checkCompose(read("deployments/docker-compose.yml"), f))
	workflows, err := filepath.Glob(filepath.Join(repoRoot, ".github/workflows/*.yml"))
	if err != nil || len(workflows) < 2 {
		t.Fatalf("want ci.yml and deploy.yml in .github/workflows, got %v (%v)", workflows, err)
	}
	for _, w := range workflows {
		rel, _ := filepath.Rel(repoRoot, w)
		report(rel, checkWorkflow(rel, read(rel), f))
	}
	report("deployments/Dockerfile", checkDockerfile(read("deployments/Dockerfile"), read("deployments/scripts/smoke.sh"), f))
}

// TestCheckersCatchDrift shows each check failing on a file that drifted.
func TestCheckersCatchDrift(t *testing.T) {
	f := loadFacts(t)
	render := string(mustRead(t, "deployments/render.yaml"))
	compose := string(mustRead(t, "deployments/docker-compose.yml"))
	ci := string(mustRead(t, ".github/workflows/ci.yml"))
	deploy := string(mustRead(t, ".github/workflows/deploy.yml"))
	dockerfile := string(mustRead(t, "deployments/Dockerfile"))
	smoke := string(mustRead(t, "deployments/scripts/smoke.sh"))

	cases := []struct {
		name, file, old, new, want string
	}{
		{"render: health check path the router does not serve", "render", "healthCheckPath: /readyz", "healthCheckPath: /ready", "not a GET operation"},
		{"render: variable the config does not read", "render", "- key: LOG_LEVEL", "- key: LOG_LEVL", "LOG_LEVL is not a variable"},
		{"render: misspelled Blueprint field", "render", "healthCheckPath:", "healthcheckPath:", "field healthcheckPath not found"},
		{"render: pre-deploy command that is not a subcommand", "render", "lenticular migrate up", "lenticular migrate sideways", "not a subcommand"},
		{"render: worker command that is not a subcommand", "render", "/usr/local/bin/lenticular worker", "/usr/local/bin/lenticular wrker", "not a subcommand"},
		{"render: required secret missing", "render", "- key: JWT_SECRET\n                generateValue: true", "- key: JWT_SECRETS\n                generateValue: true", "JWT_SECRETS is not a variable"},
		{"render: secret in an env group", "render", "- key: METRICS_ADDR\n        value: \":9090\"", "- key: SENTRY_DSN\n        sync: false", "sync: false"},
		{"render: reference across environments", "render", "name: lenticular-db-production\n                  property", "name: lenticular-db-staging\n                  property", "another environment"},
		{"render: web service running jobs too", "render", "- key: WORKER\n                value: \"off\"", "- key: WORKER\n                value: embedded", "WORKER"},
		{"compose: variable the config does not read", "compose", "MAILER: smtp", "MAILR: smtp", "MAILR is not a variable"},
		{"compose: worker command that is not a subcommand", "compose", `command: ["worker"]`, `command: ["wrker"]`, "not a subcommand"},
		{"compose: api not waiting for migrations", "compose", "condition: service_completed_successfully\n      postgres:\n        condition: service_healthy\n      redis:\n        condition: service_healthy\n      mailpit:\n        condition: service_started\n\n  worker:", "condition: service_started\n      postgres:\n        condition: service_healthy\n      redis:\n        condition: service_healthy\n      mailpit:\n        condition: service_started\n\n  worker:", "service_completed_successfully"},
		{"compose: SMTP_URL not pointing at mailpit", "compose", "smtp://mailpit:1025?tls=none", "smtp://localhost:1025?tls=none", "mailpit"},
		{"ci: variable nobody reads", "ci", "TEST_REDIS_URL: redis://", "TEST_REDIS: redis://", "TEST_REDIS is not"},
		{"deploy: undocumented secret", "deploy", "secrets.RENDER_STAGING_DEPLOY_HOOK", "secrets.RENDER_STAGE_HOOK", "RENDER_STAGE_HOOK is not documented"},
		{"deploy: production branch not the one Render follows", "deploy", "refs/heads/production", "refs/heads/release", "production"},
		{"dockerfile: a HEALTHCHECK", "dockerfile", "EXPOSE 8080", "EXPOSE 8080\nHEALTHCHECK CMD [\"/usr/local/bin/lenticular\", \"version\"]", "HEALTHCHECK"},
		{"dockerfile: build flags differ from the smoke test", "dockerfile", `-ldflags "-s -w -X main.version=${version}"`, `-ldflags "-w -X main.version=${version}"`, "smoke.sh"},
		{"dockerfile: default command not serve", "dockerfile", `CMD ["serve"]`, `CMD ["serv"]`, "not a subcommand"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := map[string]string{"render": render, "compose": compose, "ci": ci, "deploy": deploy, "dockerfile": dockerfile}[c.file]
			if !strings.Contains(src, c.old) {
				t.Fatalf("fixture is stale: %q not found in the %s file", c.old, c.file)
			}
			bad := []byte(strings.Replace(src, c.old, c.new, 1))
			var errs []error
			switch c.file {
			case "render":
				errs = checkRender(bad, f)
			case "compose":
				errs = checkCompose(bad, f)
			case "ci":
				errs = checkWorkflow(".github/workflows/ci.yml", bad, f)
			case "deploy":
				errs = append(checkWorkflow(".github/workflows/deploy.yml", bad, f),
					checkRenderBranches(mustRead(t, "deployments/render.yaml"), bad)...)
			case "dockerfile":
				errs = checkDockerfile(bad, []byte(smoke), f)
			}
			for _, e := range errs {
				if strings.Contains(e.Error(), c.want) {
					return
				}
			}
			t.Errorf("want an error containing %q, got %v", c.want, errs)
		})
	}
}

// TestConfigStillRequires pins the other direction: the variables render.yaml
// must declare are still required by the config, so the list above is not stale.
func TestConfigStillRequires(t *testing.T) {
	base := map[string]string{
		"APP_ENV":      "production",
		"DATABASE_URL": "postgres://u:p@db:5432/app",
		"JWT_SECRET":   strings.Repeat("s", 44),
	}
	if _, err := config.LoadFrom(base); err != nil {
		t.Fatalf("a minimal production environment no longer loads: %v", err)
	}
	for _, key := range []string{"DATABASE_URL", "JWT_SECRET"} {
		env := map[string]string{}
		for k, v := range base {
			if k != key {
				env[k] = v
			}
		}
		if _, err := config.LoadFrom(env); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("production without %s: want an error naming it, got %v", key, err)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	factsOnce sync.Once
	factsVal  facts
	factsErr  error
)

func loadFacts(t *testing.T) facts {
	t.Helper()
	factsOnce.Do(func() { factsVal, factsErr = readFacts() })
	if factsErr != nil {
		t.Fatal(factsErr)
	}
	return factsVal
}

func readFacts() (facts, error) {
	f := facts{configKeys: configKeys()}
	var err error
	if f.commands, err = subcommands(); err != nil {
		return f, err
	}
	if f.getPaths, err = routerGetPaths(); err != nil {
		return f, err
	}
	df, err := os.ReadFile(filepath.Join(repoRoot, "deployments/Dockerfile"))
	if err != nil {
		return f, err
	}
	ep, err := dockerExecForm(df, "ENTRYPOINT")
	if err != nil || len(ep) != 1 {
		return f, fmt.Errorf("Dockerfile: want ENTRYPOINT [\"/path/to/binary\"], got %q (%v)", ep, err)
	}
	f.entrypoint = ep[0]
	tc, err := os.ReadFile(filepath.Join(repoRoot, "platform/testenv/testenv.go"))
	if err != nil {
		return f, err
	}
	f.testenvCode = string(tc)
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs/deploy.md"))
	if err != nil {
		return f, err
	}
	f.deployDoc = string(doc)
	return f, nil
}

// configKeys is the single list of variables: the env tags of config.Config.
func configKeys() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		if name := strings.Split(t.Field(i).Tag.Get("env"), ",")[0]; name != "" {
			keys[name] = true
		}
	}
	return keys
}

// subcommands builds the real binary and reads its help: every line
// "lenticular CMD [SUB|SUB...]" names a command and its subcommands.
func subcommands() (map[string][]string, error) {
	dir, err := os.MkdirTemp("", "lenticular-help")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "lenticular")
	build := exec.Command("go", "build", "-o", bin, "./cmd/lenticular")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/lenticular: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "help").Output()
	if err != nil {
		return nil, fmt.Errorf("lenticular help: %v", err)
	}
	return parseHelp(string(out)), nil
}

func parseHelp(help string) map[string][]string {
	cmds := map[string][]string{}
	for _, line := range strings.Split(help, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "lenticular" {
			continue
		}
		name := strings.Trim(fields[1], "[]")
		var subs []string
		if len(fields) > 2 && !strings.HasPrefix(fields[2], "-") {
			subs = strings.Split(fields[2], "|")
		}
		cmds[name] = append(cmds[name], subs...)
	}
	return cmds
}

// routerGetPaths builds the real router, as the rest tests do, and returns
// the GET paths of its OpenAPI document after checking /readyz answers.
func routerGetPaths() (map[string]bool, error) {
	cfg, err := config.LoadFrom(map[string]string{"APP_ENV": "test", "JWT_SECRET": strings.Repeat("k", 32)})
	if err != nil {
		return nil, err
	}
	engine, api := rest.NewRouter(rest.Deps{
		Config:    cfg,
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Version:   "test",
		Limiter:   memory.NewLimiter(),
		Readiness: []rest.ReadinessCheck{{Name: "database", Check: func(context.Context) error { return nil }}},
	})
	paths := map[string]bool{}
	for p, item := range api.OpenAPI().Paths {
		if item.Get != nil {
			paths[p] = true
		}
	}
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("GET /readyz on the router: %d %s", rec.Code, rec.Body)
	}
	return paths, nil
}

// checkCommand reports whether args (after the binary) name a real
// subcommand: "serve", "worker", "migrate up".
func checkCommand(args []string, f facts) error {
	if len(args) == 0 {
		return nil // the image default, checked in the Dockerfile
	}
	subs, ok := f.commands[args[0]]
	if !ok {
		return fmt.Errorf("%q is not a subcommand of lenticular (help lists %v)", strings.Join(args, " "), sortedKeys(f.commands))
	}
	if len(args) > 1 && len(subs) > 0 && !slices.Contains(subs, args[1]) {
		return fmt.Errorf("%q is not a subcommand of lenticular (%s takes %v)", strings.Join(args, " "), args[0], subs)
	}
	return nil
}

func checkKey(key string, f facts, extra map[string]string) error {
	if f.configKeys[key] {
		return nil
	}
	if _, ok := extra[key]; ok {
		return nil
	}
	return fmt.Errorf("%s is not a variable platform/config reads (config.Config env tags)", key)
}

// ---------------------------------------------------------------- render.yaml

type renderEnvVar struct {
	Key           string `yaml:"key"`
	Value         any    `yaml:"value"`
	FromGroup     string `yaml:"fromGroup"`
	GenerateValue bool   `yaml:"generateValue"`
	Sync          *bool  `yaml:"sync"`
	FromDatabase  *struct {
		Name     string `yaml:"name"`
		Property string `yaml:"property"`
	} `yaml:"fromDatabase"`
	FromService *struct {
		Type      string `yaml:"type"`
		Name      string `yaml:"name"`
		Property  string `yaml:"property"`
		EnvVarKey string `yaml:"envVarKey"`
	} `yaml:"fromService"`
}

type renderAllow struct {
	Source      string `yaml:"source"`
	Description string `yaml:"description"`
}

type renderService struct {
	Type                    string         `yaml:"type"`
	Name                    string         `yaml:"name"`
	Runtime                 string         `yaml:"runtime"`
	Plan                    string         `yaml:"plan"`
	Region                  string         `yaml:"region"`
	Branch                  string         `yaml:"branch"`
	DockerfilePath          string         `yaml:"dockerfilePath"`
	DockerContext           string         `yaml:"dockerContext"`
	DockerCommand           string         `yaml:"dockerCommand"`
	PreDeployCommand        string         `yaml:"preDeployCommand"`
	HealthCheckPath         string         `yaml:"healthCheckPath"`
	AutoDeployTrigger       string         `yaml:"autoDeployTrigger"`
	MaxShutdownDelaySeconds int            `yaml:"maxShutdownDelaySeconds"`
	NumInstances            int            `yaml:"numInstances"`
	Domains                 []string       `yaml:"domains"`
	EnvVars                 []renderEnvVar `yaml:"envVars"`
	MaxmemoryPolicy         string         `yaml:"maxmemoryPolicy"`
	IPAllowList             []renderAllow  `yaml:"ipAllowList"`
}

type renderDatabase struct {
	Name                 string        `yaml:"name"`
	Plan                 string        `yaml:"plan"`
	Region               string        `yaml:"region"`
	PostgresMajorVersion string        `yaml:"postgresMajorVersion"`
	DatabaseName         string        `yaml:"databaseName"`
	User                 string        `yaml:"user"`
	DiskSizeGB           int           `yaml:"diskSizeGB"`
	IPAllowList          []renderAllow `yaml:"ipAllowList"`
}

type renderGroup struct {
	Name    string         `yaml:"name"`
	EnvVars []renderEnvVar `yaml:"envVars"`
}

type renderEnvironment struct {
	Name         string           `yaml:"name"`
	Services     []renderService  `yaml:"services"`
	Databases    []renderDatabase `yaml:"databases"`
	EnvVarGroups []renderGroup    `yaml:"envVarGroups"`
	Networking   struct {
		Isolation string `yaml:"isolation"`
	} `yaml:"networking"`
	Permissions struct {
		Protection string `yaml:"protection"`
	} `yaml:"permissions"`
}

// blueprint holds only fields of Render's Blueprint specification
// (https://render.com/docs/blueprint-spec); decoding with KnownFields turns
// a misspelled field, which Render would reject or ignore, into an error.
type blueprint struct {
	Services     []renderService  `yaml:"services"`
	Databases    []renderDatabase `yaml:"databases"`
	EnvVarGroups []renderGroup    `yaml:"envVarGroups"`
	Projects     []struct {
		Name         string              `yaml:"name"`
		Environments []renderEnvironment `yaml:"environments"`
	} `yaml:"projects"`
}

func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func checkRender(data []byte, f facts) []error {
	var bp blueprint
	if err := decodeStrict(data, &bp); err != nil {
		return []error{err}
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	// Where each resource lives: "" is the root (no environment).
	groups := map[string]renderGroup{}
	groupEnv := map[string]string{}
	dbEnv := map[string]string{}
	svcEnv := map[string]string{}
	services := map[string]renderService{}
	addGroups := func(env string, gs []renderGroup) {
		for _, g := range gs {
			groups[g.Name], groupEnv[g.Name] = g, env
		}
	}
	addGroups("", bp.EnvVarGroups)
	for _, db := range bp.Databases {
		dbEnv[db.Name] = ""
	}
	for _, s := range bp.Services {
		svcEnv[s.Name], services[s.Name] = "", s
	}
	envNames := map[string]bool{}
	for _, p := range bp.Projects {
		for _, e := range p.Environments {
			envNames[e.Name] = true
			addGroups(e.Name, e.EnvVarGroups)
			for _, db := range e.Databases {
				dbEnv[db.Name] = e.Name
			}
			for _, s := range e.Services {
				svcEnv[s.Name], services[s.Name] = e.Name, s
			}
		}
	}
	for _, want := range []string{"staging", "production"} {
		if !envNames[want] {
			add("no %q environment", want)
		}
	}

	for name, g := range groups {
		for _, v := range g.EnvVars {
			if err := checkKey(v.Key, f, nil); err != nil {
				add("env group %s: %v", name, err)
			}
			if v.Sync != nil || v.FromDatabase != nil || v.FromService != nil || v.FromGroup != "" {
				add("env group %s: %s: groups cannot hold sync: false or references; Render ignores them", name, v.Key)
			}
		}
	}

	kinds := map[string]int{}
	for name, s := range services {
		env := svcEnv[name]
		kinds[env+"/"+s.Type]++
		switch s.Type {
		case "web", "worker":
		case "keyvalue", "redis":
			continue
		default:
			add("service %s: type %q is not web, worker or keyvalue", name, s.Type)
			continue
		}
		if s.Runtime != "docker" {
			add("service %s: runtime %q, want docker", name, s.Runtime)
		}
		if s.DockerfilePath != "./deployments/Dockerfile" || s.DockerContext != "." {
			add("service %s: dockerfilePath %q and dockerContext %q, want ./deployments/Dockerfile and .", name, s.DockerfilePath, s.DockerContext)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, s.DockerfilePath)); err != nil {
			add("service %s: %v", name, err)
		}
		cmd := strings.Fields(s.DockerCommand)
		if len(cmd) > 0 {
			if cmd[0] != f.entrypoint {
				add("service %s: dockerCommand %q does not start with the image's binary %s", name, s.DockerCommand, f.entrypoint)
			} else if err := checkCommand(cmd[1:], f); err != nil {
				add("service %s: dockerCommand: %v", name, err)
			}
		}
		switch s.Type {
		case "web":
			if !f.getPaths[s.HealthCheckPath] || s.HealthCheckPath != "/readyz" {
				add("service %s: healthCheckPath %q is not a GET operation of the router, or not /readyz", name, s.HealthCheckPath)
			}
			pre := strings.Fields(s.PreDeployCommand)
			if len(pre) < 2 || pre[0] != f.entrypoint || !slices.Equal(pre[1:], []string{"migrate", "up"}) {
				if err := checkCommand(pre[min(1, len(pre)):], f); err != nil {
					add("service %s: preDeployCommand: %v", name, err)
				} else {
					add("service %s: preDeployCommand %q, want %s migrate up", name, s.PreDeployCommand, f.entrypoint)
				}
			}
			if len(cmd) > 1 && cmd[1] != "serve" {
				add("service %s: dockerCommand %q does not serve", name, s.DockerCommand)
			}
		case "worker":
			if len(cmd) != 2 || cmd[1] != "worker" {
				add("service %s: dockerCommand %q, want %s worker", name, s.DockerCommand, f.entrypoint)
			}
		}

		// Resolve the service's environment as Render would, with stand-ins
		// for generated, prompted and referenced values, and load it.
		vars := map[string]string{}
		for _, v := range s.EnvVars {
			if v.FromGroup != "" {
				g, ok := groups[v.FromGroup]
				if !ok {
					add("service %s: fromGroup %s is not defined", name, v.FromGroup)
					continue
				}
				if ge := groupEnv[v.FromGroup]; ge != "" && ge != env {
					add("service %s: fromGroup %s belongs to another environment (%s)", name, v.FromGroup, ge)
				}
				for _, gv := range g.EnvVars {
					vars[gv.Key] = standIn(gv)
				}
				continue
			}
			if err := checkKey(v.Key, f, renderPlatformVars); err != nil {
				add("service %s: %v", name, err)
			}
			switch {
			case v.FromDatabase != nil:
				de, ok := dbEnv[v.FromDatabase.Name]
				if !ok {
					add("service %s: %s: database %s is not defined", name, v.Key, v.FromDatabase.Name)
				} else if de != env {
					add("service %s: %s: database %s is in another environment (%s)", name, v.Key, v.FromDatabase.Name, de)
				}
			case v.FromService != nil:
				other, ok := services[v.FromService.Name]
				if !ok || other.Type != v.FromService.Type {
					add("service %s: %s: no %s service %s", name, v.Key, v.FromService.Type, v.FromService.Name)
				} else if svcEnv[v.FromService.Name] != env {
					add("service %s: %s: service %s is in another environment", name, v.Key, v.FromService.Name)
				}
			}
			vars[v.Key] = standIn(v)
		}
		if port, ok := vars["PORT"]; ok && !strings.HasSuffix(vars["HTTP_ADDR"], ":"+port) && s.Type == "web" {
			add("service %s: PORT %s does not match HTTP_ADDR %q", name, port, vars["HTTP_ADDR"])
		}
		delete(vars, "PORT")
		for _, k := range requiredDeployed {
			if _, ok := vars[k]; !ok {
				add("service %s: %s is not declared", name, k)
			}
		}
		cfg, err := config.LoadFrom(vars)
		if err != nil {
			add("service %s: its environment does not load: %v", name, err)
			continue
		}
		if string(cfg.Env) != env || !cfg.Env.Deployed() {
			add("service %s: APP_ENV %q in environment %q", name, cfg.Env, env)
		}
		if cfg.MigrateOnStart() {
			add("service %s: AUTO_MIGRATE is on; migrations run in the pre-deploy step", name)
		}
		if s.Type == "web" && cfg.Worker != "off" {
			add("service %s: WORKER=%q: the environment has a separate worker, set WORKER=off", name, cfg.Worker)
		}
		if cfg.TrustedPlatform == "cloudflare" && len(cfg.TrustedProxies) == 0 {
			add("service %s: TRUSTED_PLATFORM=cloudflare without TRUSTED_PROXIES", name)
		}
	}
	for env := range envNames {
		for _, typ := range []string{"web", "worker", "keyvalue"} {
			if kinds[env+"/"+typ] != 1 {
				add("environment %s: %d %s services, want 1", env, kinds[env+"/"+typ], typ)
			}
		}
	}
	return errs
}

// standIn is a value the variable could have on Render, good enough for the
// config to validate.
func standIn(v renderEnvVar) string {
	switch {
	case v.GenerateValue:
		return "B0jrphAPOY7pg92AN0c9MN4yecczLMdwnx4OkA1KFUk=" // Render's format: base64 of 256 bits
	case v.FromDatabase != nil:
		return "postgresql://user:pass@dpg-example-a:5432/app"
	case v.FromService != nil && v.FromService.EnvVarKey == "JWT_SECRET":
		return "B0jrphAPOY7pg92AN0c9MN4yecczLMdwnx4OkA1KFUk="
	case v.FromService != nil:
		return "redis://red-example:6379"
	case v.Sync != nil && !*v.Sync:
		switch v.Key {
		case "SMTP_URL":
			return "smtp://user:pass@smtp.example.com:587"
		case "SENTRY_DSN":
			return "https://public@o0.ingest.sentry.io/0"
		}
		return "prompted"
	}
	return fmt.Sprint(v.Value)
}

// checkRenderBranches checks that deploy.yml moves the branch Render's
// production services follow, and that staging follows main.
func checkRenderBranches(renderYAML, deployYAML []byte) []error {
	var bp blueprint
	if err := decodeStrict(renderYAML, &bp); err != nil {
		return []error{err}
	}
	var errs []error
	for _, p := range bp.Projects {
		for _, e := range p.Environments {
			for _, s := range e.Services {
				if s.Type != "web" && s.Type != "worker" {
					continue
				}
				switch e.Name {
				case "staging":
					if s.Branch != "main" {
						errs = append(errs, fmt.Errorf("%s follows %q; deploy.yml deploys staging from main", s.Name, s.Branch))
					}
				case "production":
					if !strings.Contains(string(deployYAML), ":refs/heads/"+s.Branch+`"`) {
						errs = append(errs, fmt.Errorf("%s follows branch %q, which deploy.yml does not move to the tag (production)", s.Name, s.Branch))
					}
				}
			}
		}
	}
	return errs
}

// ---------------------------------------------------------- docker-compose.yml

var composeDefault = regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)

func checkCompose(data []byte, f facts) []error {
	var doc struct {
		Services map[string]map[string]any `yaml:"services"`
		Volumes  map[string]any            `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{err}
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, want := range []string{"api", "worker", "migrate", "postgres", "redis", "mailpit"} {
		if doc.Services[want] == nil {
			add("no %s service", want)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	str := func(v any) string { return fmt.Sprint(v) }
	strs := func(v any) []string {
		var out []string
		if l, ok := v.([]any); ok {
			for _, x := range l {
				out = append(out, str(x))
			}
		}
		return out
	}
	dependsOn := func(svc, on, condition string) {
		deps, _ := doc.Services[svc]["depends_on"].(map[string]any)
		d, _ := deps[on].(map[string]any)
		if d == nil || d["condition"] != condition {
			add("%s must depend on %s with condition %s", svc, on, condition)
		}
	}

	wantCommand := map[string][]string{"api": {"serve"}, "worker": {"worker"}, "migrate": {"migrate", "up"}}
	for name, want := range wantCommand {
		s := doc.Services[name]
		cmd := strs(s["command"])
		if err := checkCommand(cmd, f); err != nil {
			add("%s: command: %v", name, err)
		} else if !slices.Equal(cmd, want) {
			add("%s: command %q, want %q", name, cmd, want)
		}
		build, _ := s["build"].(map[string]any)
		if build == nil {
			add("%s: no build section (it must run the image of deployments/Dockerfile)", name)
		} else if _, err := os.Stat(filepath.Join(repoRoot, "deployments", str(build["context"]), str(build["dockerfile"]))); err != nil || str(build["dockerfile"]) != "deployments/Dockerfile" {
			add("%s: build does not point at deployments/Dockerfile: %v", name, err)
		}
		envMap, _ := s["environment"].(map[string]any)
		vars := map[string]string{}
		for k, v := range envMap {
			if err := checkKey(k, f, nil); err != nil {
				add("%s: %v", name, err)
			}
			vars[k] = composeDefault.ReplaceAllString(str(v), "$1")
		}
		cfg, err := config.LoadFrom(vars)
		if err != nil {
			add("%s: its environment does not load: %v", name, err)
			continue
		}
		if cfg.Embedded() || cfg.RedisURL == "" {
			add("%s: must use the postgres and redis services", name)
		}
		if cfg.MigrateOnStart() {
			add("%s: AUTO_MIGRATE is on; the migrate service runs migrations", name)
		}
		if cfg.Worker != "off" {
			add("%s: WORKER=%q; the worker service runs jobs", name, cfg.Worker)
		}
		if cfg.Mailer != "smtp" {
			add("%s: MAILER=%q, want smtp to mailpit", name, cfg.Mailer)
		} else if u, err := url.Parse(cfg.SMTPURL.Reveal()); err != nil || u.Host != "mailpit:1025" {
			add("%s: SMTP_URL must point at the mailpit service (mailpit:1025)", name)
		}
		mounted := false
		for _, v := range strs(s["volumes"]) {
			if strings.HasSuffix(v, ":"+cfg.DataDir) {
				mounted = true
			}
		}
		if !mounted || s["read_only"] != true {
			add("%s: want read_only: true with a volume at DATA_DIR (%s)", name, cfg.DataDir)
		}
	}
	for _, svc := range []string{"api", "worker"} {
		dependsOn(svc, "migrate", "service_completed_successfully")
		dependsOn(svc, "postgres", "service_healthy")
	}
	dependsOn("migrate", "postgres", "service_healthy")
	pg := doc.Services["postgres"]
	if pg["healthcheck"] == nil || len(strs(pg["volumes"])) == 0 {
		add("postgres needs a healthcheck and a volume")
	}
	if doc.Services["redis"]["healthcheck"] == nil {
		add("redis needs a healthcheck (api waits for it)")
	}
	return errs
}

// ------------------------------------------------------------------ workflows

var secretRef = regexp.MustCompile(`secrets\.([A-Z0-9_]+)`)

func checkWorkflow(name string, data []byte, f facts) []error {
	var wf struct {
		Env  map[string]any   `yaml:"env"`
		Jobs map[string]wfJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return []error{err}
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	checkEnv := func(where string, env map[string]any) {
		for k := range env {
			switch {
			case f.configKeys[k]:
			case ciVars[k] && strings.HasPrefix(k, "TEST_") && !strings.Contains(f.testenvCode, `"`+k+`"`):
				add("%s: %s is not read by platform/testenv", where, k)
			case ciVars[k]:
			default:
				add("%s: %s is not a config variable, nor a known CI variable", where, k)
			}
		}
	}
	checkEnv("workflow env", wf.Env)
	for jn, j := range wf.Jobs {
		checkEnv("job "+jn, j.Env)
		for i, st := range j.Steps {
			where := fmt.Sprintf("job %s step %d", jn, i+1)
			checkEnv(where, st.Env)
			for _, script := range regexp.MustCompile(`deployments/scripts/[a-z0-9_-]+\.sh`).FindAllString(st.Run, -1) {
				if _, err := os.Stat(filepath.Join(repoRoot, script)); err != nil {
					add("%s: %v", where, err)
				}
			}
			if strings.HasPrefix(st.Uses, "docker/build-push-action") {
				file := fmt.Sprint(st.With["file"])
				if _, err := os.Stat(filepath.Join(repoRoot, file)); err != nil || file != "deployments/Dockerfile" {
					add("%s: builds %q, want deployments/Dockerfile", where, file)
				}
			}
			if strings.Contains(st.Run, "go test") && !strings.Contains(st.Run, "-race") {
				add("%s: go test without -race", where)
			}
		}
	}
	for _, m := range secretRef.FindAllStringSubmatch(string(data), -1) {
		if !strings.Contains(f.deployDoc, m[1]) {
			add("secret %s is not documented in docs/deploy.md", m[1])
		}
	}
	switch filepath.Base(name) {
	case "deploy.yml":
		for env, cond := range map[string]string{"staging": "refs/heads/main", "production": "refs/tags/v"} {
			j, ok := wf.Jobs[env]
			if !ok || fmt.Sprint(j.Environment) == "" || !strings.Contains(fmt.Sprint(j.Environment), env) || !strings.Contains(j.If, cond) {
				add("deploy.yml: job %s must use environment %s and run on %s", env, env, cond)
			}
		}
		if !strings.Contains(string(data), `:refs/heads/production"`) {
			add("deploy.yml: does not move the production branch Render's production services follow")
		}
	case "ci.yml":
		test, ok := wf.Jobs["test"]
		if !ok || test.Services["postgres"] == nil || test.Services["redis"] == nil {
			add("ci.yml: the test job needs postgres and redis service containers")
		}
	}
	return errs
}

type wfJob struct {
	If          string         `yaml:"if"`
	Environment any            `yaml:"environment"`
	Env         map[string]any `yaml:"env"`
	Services    map[string]any `yaml:"services"`
	Steps       []struct {
		Uses string         `yaml:"uses"`
		Run  string         `yaml:"run"`
		Env  map[string]any `yaml:"env"`
		With map[string]any `yaml:"with"`
	} `yaml:"steps"`
}

// ----------------------------------------------------------------- Dockerfile

// goBuildFlags captures everything between `go build` and `-o`: tags,
// -trimpath and -ldflags must be the same in the image and the smoke test.
var goBuildFlags = regexp.MustCompile(`CGO_ENABLED=0 go build ([^\n]*?) -o `)

func checkDockerfile(data, smoke []byte, f facts) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	text := string(data)
	if regexp.MustCompile(`(?m)^\s*HEALTHCHECK`).MatchString(text) {
		add("HEALTHCHECK: the platform probes /readyz; the distroless image has nothing to run a check with")
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(froms) < 2 || !strings.HasPrefix(froms[len(froms)-1][1], "gcr.io/distroless/static") || !strings.HasSuffix(froms[len(froms)-1][1], ":nonroot") {
		add("the final stage must be gcr.io/distroless/static...:nonroot, got %v", froms)
	}
	cmd, err := dockerExecForm(data, "CMD")
	if err != nil {
		add("%v", err)
	} else if err := checkCommand(cmd, f); err != nil {
		add("CMD: %v", err)
	} else if !slices.Equal(cmd, []string{"serve"}) {
		add("CMD %q, want [\"serve\"]", cmd)
	}
	for _, m := range regexp.MustCompile(`(?m)^ENV\s+((?:.|\\\n)*)`).FindAllStringSubmatch(text, -1) {
		for _, kv := range strings.Fields(strings.ReplaceAll(m[1], "\\\n", " ")) {
			if k, _, ok := strings.Cut(kv, "="); ok {
				if err := checkKey(k, f, nil); err != nil {
					add("ENV: %v", err)
				}
			}
		}
	}
	if !strings.Contains(text, "DATA_DIR=/data") {
		add("DATA_DIR must be /data, the image's one writable directory")
	}
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(text, " ") // continuation lines
	df, sm := goBuildFlags.FindStringSubmatch(joined), goBuildFlags.FindStringSubmatch(string(smoke))
	switch {
	case df == nil:
		add("no `CGO_ENABLED=0 go build ... -o` line")
	case sm == nil:
		add("deployments/scripts/smoke.sh does not build with `CGO_ENABLED=0 go build ... -o`")
	case strings.TrimSpace(df[1]) != strings.TrimSpace(sm[1]):
		add("go build flags differ: Dockerfile %q, smoke.sh %q; the smoke test must run the release binary", df[1], sm[1])
	}
	if df != nil && (!strings.Contains(df[1], `-ldflags "-s -w -X main.version=`) || !strings.Contains(df[1], "-trimpath")) {
		add("go build must use -trimpath and -ldflags \"-s -w -X main.version=...\"")
	}
	return errs
}

// dockerExecForm returns the JSON array of the last instruction (ENTRYPOINT
// or CMD) of the Dockerfile.
func dockerExecForm(data []byte, instr string) ([]string, error) {
	ms := regexp.MustCompile(`(?m)^`+instr+`\s+(.*)$`).FindAllSubmatch(data, -1)
	if len(ms) == 0 {
		return nil, fmt.Errorf("no %s", instr)
	}
	var out []string
	if err := json.Unmarshal(ms[len(ms)-1][1], &out); err != nil {
		return nil, fmt.Errorf("%s must use the exec (JSON) form: there is no shell in the image: %v", instr, err)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
