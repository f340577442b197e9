package depcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
)

// listed is the part of `go list -json` output that Load reads.
type listed struct {
	ImportPath     string
	Dir            string
	GoFiles        []string
	CgoFiles       []string
	TestGoFiles    []string
	XTestGoFiles   []string
	IgnoredGoFiles []string
	Imports        []string
	TestImports    []string
	XTestImports   []string
}

// Load lists the packages of the Go module rooted at dir (`go list -e -json
// ./...`, so testdata and nested modules are left out) and parses the imports
// of each of their files: the package's own files, its _test.go files (both
// the internal and the external test package) and the files that build
// constraints exclude on this platform, since they are source of the package
// all the same.
//
// A package that does not build (a missing dependency, a type error) is still
// loaded: its imports are what this check is about. A file that does not parse
// is an error.
func Load(dir string) ([]Package, error) {
	cmd := exec.Command("go", "list", "-e",
		"-json=ImportPath,Dir,GoFiles,CgoFiles,TestGoFiles,XTestGoFiles,IgnoredGoFiles,Imports,TestImports,XTestImports",
		"./...")
	cmd.Dir = dir
	// The check is about one module and its go.mod; a go.work around it
	// would only make the listing depend on where the tree is checked out.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go list in %s: %w\n%s", dir, err, stderr.Bytes())
	}
	return parseList(&stdout)
}

// parseList decodes the stream of JSON objects printed by `go list -json`
// and reads the imports of every file it names.
func parseList(r io.Reader) ([]Package, error) {
	var pkgs []Package
	dec := json.NewDecoder(r)
	for {
		var l listed
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			return pkgs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		p, err := readPackage(l)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
}

func readPackage(l listed) (Package, error) {
	p := Package{Path: l.ImportPath}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, names := range [][]string{l.GoFiles, l.CgoFiles, l.TestGoFiles, l.XTestGoFiles, l.IgnoredGoFiles} {
		for _, name := range names {
			imports, err := fileImports(fset, filepath.Join(l.Dir, name))
			if err != nil {
				return Package{}, err
			}
			for _, imp := range imports {
				seen[imp] = true
			}
			p.Files = append(p.Files, File{Name: name, Imports: imports})
		}
	}
	// Every import the go command reports must come from a file read above;
	// otherwise this loader is missing a kind of file and the check would
	// pass without having looked. (cgo adds implicit imports, so packages
	// using it are not compared.)
	if len(l.CgoFiles) == 0 {
		for _, imp := range slices.Concat(l.Imports, l.TestImports, l.XTestImports) {
			if !seen[imp] {
				return Package{}, fmt.Errorf("%s: go list reports import %q, which no parsed file contains", l.ImportPath, imp)
			}
		}
	}
	return p, nil
}

// fileImports returns the import paths of one Go file, reading only its
// import declarations.
func fileImports(fset *token.FileSet, filename string) ([]string, error) {
	f, err := parser.ParseFile(fset, filename, nil, parser.ImportsOnly)
	if err != nil {
		return nil, fmt.Errorf("parse imports: %w", err)
	}
	imports := make([]string, 0, len(f.Imports))
	for _, spec := range f.Imports {
		imp, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: import %s: %w", filename, spec.Path.Value, err)
		}
		imports = append(imports, imp)
	}
	return imports, nil
}
