package blockstore

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEveryFormatVersionHasFixtures: the sequence has no gaps, and each
// version names fixtures that exist.
func TestEveryFormatVersionHasFixtures(t *testing.T) {
	for v := FormatInitial; v <= FormatNewest; v++ {
		fx := Fixtures[v]
		if len(fx) == 0 {
			t.Errorf("format version %d lists no golden fixture", v)
		}
		for _, p := range fx {
			if _, err := os.Stat(filepath.Join("..", p)); err != nil {
				t.Errorf("format version %d: fixture %s: %v", v, p, err)
			}
		}
	}
	if len(Fixtures) != int(FormatNewest) {
		t.Errorf("%d versions have fixtures, the newest is %d", len(Fixtures), FormatNewest)
	}
}
