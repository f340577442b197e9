package depcheck

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRepositoryFollowsDependencyRule is the architecture test: it loads every
// package of the repository, test files included, and fails on each import
// that breaks the dependency rule of ARCHITECTURE.md.
func TestRepositoryFollowsDependencyRule(t *testing.T) {
	root := repositoryRoot(t)
	pkgs, err := Load(root)
	if err != nil {
		t.Fatalf("load %s: %v", root, err)
	}

	// The check is only as good as what it looked at: it must at least have
	// seen this package, with its test file.
	self := ModulePath + "/platform/depcheck"
	i := slices.IndexFunc(pkgs, func(p Package) bool { return p.Path == self })
	if i < 0 {
		t.Fatalf("loaded %d packages from %s, but not %s: the loader is not looking at this repository", len(pkgs), root, self)
	}
	if !slices.ContainsFunc(pkgs[i].Files, func(f File) bool { return f.Name == "depcheck_test.go" }) {
		t.Fatalf("%s loaded without depcheck_test.go: the loader does not read test files", self)
	}
	layers := map[string]int{}
	for _, p := range pkgs {
		if rel, ok := local(p.Path); ok {
			layers[first(rel)]++
		}
	}
	t.Logf("checked %d packages: %d in modules/, %d in adapters/, %d in platform/, %d in cmd/",
		len(pkgs), layers["modules"], layers["adapters"], layers["platform"], layers["cmd"])
	if layers["modules"] == 0 {
		t.Log("no package under modules/ yet: the rules for modules had nothing to check")
	}

	for _, v := range Check(pkgs) {
		t.Error(v)
	}
}

func repositoryRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" || gomod == "NUL" {
		t.Fatalf("go env GOMOD = %q: not inside the module", gomod)
	}
	return filepath.Dir(gomod)
}

// TestCheck breaks each rule once on in-memory packages and expects exactly
// the violation it should give, and checks that what the rule allows passes.
func TestCheck(t *testing.T) {
	const (
		gin  = "github.com/gin-gonic/gin"
		gorm = "gorm.io/gorm"
		fx   = "go.uber.org/fx"
	)
	m := func(rel string) string { return ModulePath + "/" + rel }

	tests := []struct {
		name string
		pkgs []Package
		want []string
	}{
		{
			name: "module imports gin",
			pkgs: []Package{pkg(m("modules/links"), file("handler.go", "context", gin))},
			want: []string{"modules/links imports github.com/gin-gonic/gin in handler.go (modules may not import third-party libraries outside the allow-list)"},
		},
		{
			name: "module imports gorm",
			pkgs: []Package{pkg(m("modules/links"), file("store.go", gorm))},
			want: []string{"modules/links imports gorm.io/gorm in store.go (modules may not import third-party libraries outside the allow-list)"},
		},
		{
			name: "module test imports gorm",
			pkgs: []Package{pkg(m("modules/links"), file("service.go", "context"), file("service_test.go", "testing", gorm))},
			want: []string{"modules/links imports gorm.io/gorm in service_test.go (modules may not import third-party libraries outside the allow-list)"},
		},
		{
			name: "module imports an adapter",
			pkgs: []Package{pkg(m("modules/users"), file("service.go", m("adapters/rest")))},
			want: []string{"modules/users imports adapters/rest in service.go (modules may not import adapters)"},
		},
		{
			name: "module imports platform",
			pkgs: []Package{pkg(m("modules/auth"), file("session.go", m("platform/config")))},
			want: []string{"modules/auth imports platform/config in session.go (modules may not import platform)"},
		},
		{
			name: "module imports fx outside module.go",
			pkgs: []Package{pkg(m("modules/search"), file("module.go", fx), file("service.go", fx))},
			want: []string{"modules/search imports go.uber.org/fx in service.go (modules may import go.uber.org/fx only in module.go)"},
		},
		{
			name: "one violation names every file that makes it",
			pkgs: []Package{pkg(m("modules/links"), file("b.go", gorm), file("a.go", gorm))},
			want: []string{"modules/links imports gorm.io/gorm in a.go, b.go (modules may not import third-party libraries outside the allow-list)"},
		},
		{
			name: "adapter imports another adapter",
			pkgs: []Package{pkg(m("adapters/jobs"), file("worker.go", m("adapters/mail")))},
			want: []string{"adapters/jobs imports adapters/mail in worker.go (adapters may not import other adapters)"},
		},
		{
			name: "adapter subpackage imports another adapter",
			pkgs: []Package{pkg(m("adapters/gormdb/storetest"), file("suite.go", m("adapters/memory")))},
			want: []string{"adapters/gormdb/storetest imports adapters/memory in suite.go (adapters may not import other adapters)"},
		},
		{
			name: "rest non-test file imports memory",
			pkgs: []Package{pkg(m("adapters/rest"), file("router.go", m("adapters/memory")), file("router_test.go", m("adapters/memory")))},
			want: []string{"adapters/rest imports adapters/memory in router.go (adapters may not import other adapters)"},
		},
		{
			name: "rest test imports an adapter other than memory",
			pkgs: []Package{pkg(m("adapters/rest"), file("router_test.go", m("adapters/gormdb")))},
			want: []string{"adapters/rest imports adapters/gormdb in router_test.go (adapters may not import other adapters)"},
		},
		{
			name: "memory test imports rest (the exception is one-way)",
			pkgs: []Package{pkg(m("adapters/memory"), file("users_test.go", m("adapters/rest")))},
			want: []string{"adapters/memory imports adapters/rest in users_test.go (adapters may not import other adapters)"},
		},
		{
			name: "platform imports a module",
			pkgs: []Package{pkg(m("platform/config"), file("config.go", m("modules/users")))},
			want: []string{"platform/config imports modules/users in config.go (platform may not import modules (only platform/app wires them))"},
		},
		{
			name: "platform test imports an adapter",
			pkgs: []Package{pkg(m("platform/httpserver"), file("server_test.go", m("adapters/rest")))},
			want: []string{"platform/httpserver imports adapters/rest in server_test.go (platform may not import adapters (only platform/app wires them))"},
		},
		{
			name: "a package whose name starts like app is not the composition root",
			pkgs: []Package{pkg(m("platform/appconfig"), file("config.go", m("modules/users")))},
			want: []string{"platform/appconfig imports modules/users in config.go (platform may not import modules (only platform/app wires them))"},
		},
		{
			name: "violations are reported per package and sorted",
			pkgs: []Package{
				pkg(m("platform/config"), file("config.go", m("modules/users"))),
				pkg(m("modules/links"), file("store.go", gorm, m("adapters/gormdb"))),
			},
			want: []string{
				"modules/links imports adapters/gormdb in store.go (modules may not import adapters)",
				"modules/links imports gorm.io/gorm in store.go (modules may not import third-party libraries outside the allow-list)",
				"platform/config imports modules/users in config.go (platform may not import modules (only platform/app wires them))",
			},
		},

		{
			name: "module imports the standard library and the allow-list",
			pkgs: []Package{pkg(m("modules/auth"),
				file("token.go", "context", "crypto/rand", "net/url", "github.com/google/uuid", "github.com/golang-jwt/jwt/v5"),
				file("password.go", "golang.org/x/crypto/argon2", "golang.org/x/text/unicode/norm", "golang.org/x/sync/errgroup", "golang.org/x/net/idna"),
			)},
		},
		{
			name: "module imports another module",
			pkgs: []Package{pkg(m("modules/links"), file("service.go", m("modules/users")), file("service_test.go", m("modules/users")))},
		},
		{
			name: "module imports fx in module.go",
			pkgs: []Package{pkg(m("modules/links"), file("module.go", fx, m("modules/users")))},
		},
		{
			name: "rest test imports memory",
			pkgs: []Package{
				pkg(m("adapters/rest"), file("links_test.go", m("adapters/memory"), "net/http/httptest")),
				pkg(m("adapters/rest/middleware"), file("limit_test.go", m("adapters/memory/limiter"))),
			},
		},
		{
			name: "adapter imports modules, platform, libraries and its own subpackages",
			pkgs: []Package{pkg(m("adapters/gormdb"), file("links.go", m("modules/links"), m("platform/database"), gorm, m("adapters/gormdb/migrations")))},
		},
		{
			name: "platform/app imports everything",
			pkgs: []Package{pkg(m("platform/app"), file("app.go", fx, gin, m("modules/links"), m("adapters/rest"), m("adapters/memory"), m("platform/config")))},
		},
		{
			name: "platform imports platform and libraries",
			pkgs: []Package{pkg(m("platform/database"), file("database.go", m("platform/config"), gorm, "github.com/jackc/pgx/v5"))},
		},
		{
			name: "cmd imports everything",
			pkgs: []Package{pkg(m("cmd/lenticular"), file("main.go", fx, m("platform/app"), m("adapters/gormdb"), m("modules/users")))},
		},
		{
			name: "packages of other modules are not checked",
			pkgs: []Package{pkg("example.com/other/modules/links", file("store.go", gorm))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(lines(Check(tt.pkgs)), "\n")
			want := strings.Join(tt.want, "\n")
			if got != want {
				t.Errorf("violations:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestLoadReportsViolationsOnDisk runs the loader and the rule on a small
// module in testdata that breaks the rule, once in a package file and once in
// an external test file.
func TestLoadReportsViolationsOnDisk(t *testing.T) {
	pkgs, err := Load(filepath.Join("testdata", "badrepo"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range pkgs {
		paths = append(paths, short(p.Path))
	}
	if want := []string{"adapters/fake", "modules/bad", "platform/clock"}; !slices.Equal(paths, want) {
		t.Fatalf("loaded packages %q, want %q", paths, want)
	}

	got := strings.Join(lines(Check(pkgs)), "\n")
	want := strings.Join([]string{
		"modules/bad imports adapters/fake in bad.go (modules may not import adapters)",
		"platform/clock imports modules/bad in clock_test.go (platform may not import modules (only platform/app wires them))",
	}, "\n")
	if got != want {
		t.Errorf("violations:\n%s\nwant:\n%s", got, want)
	}
}

func pkg(path string, files ...File) Package { return Package{Path: path, Files: files} }

func file(name string, imports ...string) File { return File{Name: name, Imports: imports} }

func lines(vs []Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}
