package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdLink is a markdown link target: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinkRepositoryFiles: every relative link in the repository's
// markdown files names a file that is in the repository (no ../shared/…).
func TestDocsLinkRepositoryFiles(t *testing.T) {
	docs := []string{"../README.md", "../API.md", "../FORMAT.md", "../BENCHMARKS.md", "../docs/DESIGN.md"}
	for _, doc := range docs {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(text), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := filepath.Join(filepath.Dir(doc), target)
			if !strings.HasPrefix(filepath.Clean(path), "..") || strings.HasPrefix(filepath.Clean(path), "../..") {
				t.Errorf("%s links %s, outside the repository", doc, m[1])
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links %s: %v", doc, m[1], err)
			}
		}
	}
}
