// Package depcheck enforces the dependency rule of ARCHITECTURE.md: it reads
// the import graph of the module (every file, test files included) and
// reports each import that crosses a boundary the architecture forbids.
package depcheck

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// ModulePath is the path of this repository's Go module. Only packages under
// it are checked, and imports under it are classified by their first path
// element (modules, adapters, platform, cmd).
const ModulePath = "github.com/lenticular/lenticular"

// moduleAllowList holds the only third-party libraries that modules/... may
// import. Each is a small pure library: no I/O, no global state, no framework,
// nothing that ties the domain to a technology. A pattern ending in "/..."
// matches the path and everything below it.
var moduleAllowList = []struct {
	pattern string
	why     string
}{
	{"github.com/google/uuid", "identifiers are value objects; uuid is a pure value type"},
	{"golang.org/x/text/...", "Unicode normalisation and case folding of usernames, emails and URLs"},
	{"golang.org/x/crypto/...", "password hashing (argon2id, bcrypt) is a domain policy of auth"},
	{"golang.org/x/sync/...", "errgroup and singleflight: concurrency helpers without I/O"},
	{"golang.org/x/net/idna", "IDNA host canonicalisation of links; pure string transformation"},
	{"github.com/golang-jwt/jwt/v5", "token signing and verification in auth; pure cryptography"},
}

// moduleFxImport may be imported by a module, but only in a file named
// moduleFxFile: that file is the module's one declaration of what it provides
// to the fx graph, and keeps the rest of the module free of the container.
const (
	moduleFxImport = "go.uber.org/fx"
	moduleFxFile   = "module.go"
)

// platformExempt lists the platform packages (and their subpackages) that may
// import modules and adapters: the composition root, which wires everything,
// and this checker, which names them in its tests.
var platformExempt = []string{"platform/app", "platform/depcheck"}

// adapterTestExceptions lists the adapters that an adapter's _test.go files
// may import: rest tests run the handlers on the in-memory implementations.
var adapterTestExceptions = map[string][]string{
	"rest": {"memory"},
}

// The reasons, one per rule, as they appear in a Violation.
const (
	reasonModuleThirdParty = "modules may not import third-party libraries outside the allow-list"
	reasonModuleFx         = "modules may import " + moduleFxImport + " only in " + moduleFxFile
	reasonModuleAdapters   = "modules may not import adapters"
	reasonModulePlatform   = "modules may not import platform"
	reasonModuleLocal      = "modules may import only other modules of this repository"
	reasonAdapterAdapter   = "adapters may not import other adapters"
	reasonPlatformModules  = "platform may not import modules (only platform/app wires them)"
	reasonPlatformAdapters = "platform may not import adapters (only platform/app wires them)"
)

// Package is one package of the module with the imports of each of its files.
type Package struct {
	Path  string // import path, e.g. github.com/lenticular/lenticular/modules/links
	Files []File
}

// File is one Go source file of a package, test files included.
type File struct {
	Name    string   // base name, e.g. service.go or service_test.go
	Imports []string // import paths as written in the file
}

// IsTest reports whether the file is a _test.go file.
func (f File) IsTest() bool { return strings.HasSuffix(f.Name, "_test.go") }

// Violation is one forbidden import of one package, with the files that make it.
type Violation struct {
	Package string   // import path of the importing package
	Import  string   // the forbidden import path
	Files   []string // the package's files that import it, sorted
	Reason  string   // the rule that forbids it
}

// String reads like
// "modules/links imports gorm.io/gorm in store.go (modules may not import ...)".
func (v Violation) String() string {
	return fmt.Sprintf("%s imports %s in %s (%s)",
		short(v.Package), short(v.Import), strings.Join(v.Files, ", "), v.Reason)
}

// Check returns every violation of the dependency rule in pkgs, sorted by
// package, then import. Packages outside ModulePath are ignored.
func Check(pkgs []Package) []Violation {
	type key struct{ pkg, imp, reason string }
	found := map[key]*Violation{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, imp := range f.Imports {
				reason := check(p.Path, f, imp)
				if reason == "" {
					continue
				}
				k := key{p.Path, imp, reason}
				v := found[k]
				if v == nil {
					v = &Violation{Package: p.Path, Import: imp, Reason: reason}
					found[k] = v
				}
				if !slices.Contains(v.Files, f.Name) {
					v.Files = append(v.Files, f.Name)
				}
			}
		}
	}
	out := make([]Violation, 0, len(found))
	for _, v := range found {
		sort.Strings(v.Files)
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		if a.Import != b.Import {
			return a.Import < b.Import
		}
		return a.Reason < b.Reason
	})
	return out
}

// check returns why file f of package pkg may not import imp, or "" if it may.
func check(pkg string, f File, imp string) string {
	rel, ok := local(pkg)
	if !ok {
		return ""
	}
	impRel, impLocal := local(imp)
	switch first(rel) {
	case "modules":
		switch {
		case impLocal && first(impRel) == "modules":
			return ""
		case impLocal && first(impRel) == "adapters":
			return reasonModuleAdapters
		case impLocal && first(impRel) == "platform":
			return reasonModulePlatform
		case impLocal:
			return reasonModuleLocal
		case isStandard(imp):
			return ""
		case imp == moduleFxImport:
			if f.Name == moduleFxFile {
				return ""
			}
			return reasonModuleFx
		case moduleAllowed(imp):
			return ""
		default:
			return reasonModuleThirdParty
		}
	case "adapters":
		if !impLocal || first(impRel) != "adapters" {
			return ""
		}
		from, to := second(rel), second(impRel)
		if from != "" && from == to {
			return ""
		}
		if f.IsTest() && slices.Contains(adapterTestExceptions[from], to) {
			return ""
		}
		return reasonAdapterAdapter
	case "platform":
		if !impLocal || under(rel, platformExempt...) {
			return ""
		}
		switch first(impRel) {
		case "modules":
			return reasonPlatformModules
		case "adapters":
			return reasonPlatformAdapters
		}
		return ""
	default: // cmd/... may import anything; nothing else is constrained.
		return ""
	}
}

func moduleAllowed(imp string) bool {
	for _, a := range moduleAllowList {
		if matches(a.pattern, imp) {
			return true
		}
	}
	return false
}

// matches reports whether imp is pattern, or lies below it when pattern ends in "/...".
func matches(pattern, imp string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return imp == base || strings.HasPrefix(imp, base+"/")
	}
	return imp == pattern
}

// local returns the path of p relative to ModulePath, if p lies in the module.
func local(p string) (string, bool) {
	if p == ModulePath {
		return "", true
	}
	rel, ok := strings.CutPrefix(p, ModulePath+"/")
	return rel, ok
}

// short strips ModulePath from p for messages.
func short(p string) string {
	if rel, ok := local(p); ok && rel != "" {
		return rel
	}
	return p
}

// isStandard reports whether imp belongs to the standard library (or is the
// cgo pseudo-package "C"): its first element has no dot, as for every path
// of the standard library and none of a module fetched from the network.
func isStandard(imp string) bool {
	return !strings.Contains(first(imp), ".")
}

// under reports whether rel is one of dirs or lies below one of them.
func under(rel string, dirs ...string) bool {
	for _, d := range dirs {
		if matches(path.Join(d, "..."), rel) {
			return true
		}
	}
	return false
}

func first(p string) string {
	head, _, _ := strings.Cut(p, "/")
	return head
}

func second(p string) string {
	_, rest, _ := strings.Cut(p, "/")
	return first(rest)
}
