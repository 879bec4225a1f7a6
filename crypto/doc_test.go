package crypto

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestDocsCoverAPI keeps docs/crypto.md in step with the code: every exported
// identifier, every exported method (as Type.Method) and every label must
// appear in it, and every exported declaration must have a doc comment.
func TestDocsCoverAPI(t *testing.T) {
	raw, err := os.ReadFile("../docs/crypto.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkg := pkgs["crypto"]
	if pkg == nil {
		t.Fatal("package crypto not found")
	}
	redaction := map[string]bool{"String": true, "GoString": true, "Format": true, "LogValue": true}
	need := func(name string, documented bool, pos token.Pos) {
		t.Helper()
		if !strings.Contains(doc, name) {
			t.Errorf("%s: %s is not in docs/crypto.md", fset.Position(pos), name)
		}
		if !documented {
			t.Errorf("%s: %s has no doc comment", fset.Position(pos), name)
		}
	}
	hasPkgDoc := false
	for _, f := range pkg.Files {
		if f.Doc != nil {
			hasPkgDoc = true
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					need(d.Name.Name, d.Doc != nil, d.Pos())
					continue
				}
				typ := d.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				recv := typ.(*ast.Ident).Name
				if redaction[d.Name.Name] && recv != "SharePublicKey" {
					if d.Doc == nil {
						t.Errorf("%s: %s.%s has no doc comment", fset.Position(d.Pos()), recv, d.Name.Name)
					}
					continue
				}
				need(recv+"."+d.Name.Name, d.Doc != nil, d.Pos())
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							need(s.Name.Name, d.Doc != nil || s.Doc != nil, s.Pos())
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								need(n.Name, d.Doc != nil || s.Doc != nil || s.Comment != nil, n.Pos())
							}
						}
					}
				}
			}
		}
	}
	if !hasPkgDoc {
		t.Error("package crypto has no package doc comment")
	}
	if !strings.Contains(doc, "`String`, `GoString`, `Format` and `LogValue`") {
		t.Error("docs/crypto.md does not describe the redaction methods")
	}
	for _, l := range allLabels {
		if !strings.Contains(doc, "`"+l+"`") {
			t.Errorf("label %q is not in docs/crypto.md", l)
		}
	}
}
