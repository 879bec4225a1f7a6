package journal

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// docs/journal.md must describe every kind, every body member, every
// measure and the main functions; this keeps it from drifting.
func TestDocsCoverPackage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "journal.md"))
	if err != nil {
		t.Skipf("docs/journal.md not found: %v", err)
	}
	doc := string(b)
	var want []string
	for _, k := range Kinds() {
		want = append(want, "`"+k.Name+"`")
		for _, fi := range infoFor(reflect.TypeOf(newBody(k.Kind)).Elem()).fields {
			want = append(want, "`"+fi.name+"`")
			if fi.kindKey != "" {
				want = append(want, fi.kindKey)
			}
		}
	}
	for _, m := range Measures() {
		want = append(want, m.Name, "`"+m.ID+"`")
		want = append(want, m.Items...)
		for _, o := range m.Options {
			want = append(want, o.Label)
		}
	}
	for _, p := range Prompts() {
		want = append(want, "`"+p.ID+"`")
	}
	want = append(want, "Marshal", "Unmarshal", "Validate", "Build", "Kinds()", "Spec(", "ScoresOnly", "Score(",
		"PHQ9ReliableChange", "WHO5SignificantChange", "LoadCrisisResources", "Lookup(", "Trends(", "RenderTerminalChart",
		"RenderSVG", "Summary(", "RenderSummary", "WriteCSV", "WriteHTMLReport", "DueReminders", "QuietHours")
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("docs/journal.md does not mention %s", w)
		}
	}
}
