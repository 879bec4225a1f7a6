package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

type goPackage struct {
	ImportPath string
	Doc        string
	Name       string
	Deps       []string
	Imports    []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "interlude/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

// forbidden maps a package (or a prefix ending in "/") to the module packages it must
// never depend on, directly or not.
var forbidden = map[string][]string{
	"interlude/crypto":    {"interlude/"},
	"interlude/syncproto": {"interlude/"},
	"interlude/journal":   {"interlude/"},
	"interlude/storage":   {"interlude/crypto", "interlude/client", "interlude/server", "interlude/journal"},
	"interlude/server":    {"interlude/crypto", "interlude/client", "interlude/journal", "interlude/audit", "interlude/storage/sqlite"},
}

func TestImportArrows(t *testing.T) {
	for _, p := range listPackages(t) {
		for layer, bans := range forbidden {
			if p.ImportPath != layer && !strings.HasPrefix(p.ImportPath, layer+"/") {
				continue
			}
			for _, dep := range p.Deps {
				if !strings.HasPrefix(dep, "interlude/") || strings.HasPrefix(dep, layer+"/") {
					continue // outside the module, or the layer's own subpackages
				}
				for _, ban := range bans {
					if ban == "interlude/" || dep == ban || strings.HasPrefix(dep, ban+"/") {
						t.Errorf("%s depends on %s, which its layer forbids (see docs/architecture.md)", p.ImportPath, dep)
					}
				}
			}
		}
	}
}

func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.Name == "main" {
			continue // commands are documented by their usage text
		}
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment", p.ImportPath)
		}
	}
}
