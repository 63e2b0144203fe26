package blockstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleTempAge is how old a dir target's temp file must be before GC treats
// it as a crash leftover: far longer than any Put takes.
const staleTempAge = time.Hour

// RemoveStaleTemp deletes temp files of Puts a crash interrupted, if they are
// older than olderThan.
func (d *dirTarget) RemoveStaleTemp(ctx context.Context, olderThan time.Duration) (int, int64, error) {
	var n int
	var size int64
	cutoff := time.Now().Add(-olderThan)
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return ignoreMissing(err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		fi, err := e.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return ignoreMissing(err)
		}
		if err := os.Remove(p); err != nil {
			return ignoreMissing(err)
		}
		n, size = n+1, size+fi.Size()
		return nil
	})
	return n, size, err
}

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// removeStaleTemps runs RemoveStaleTemp on every target whose wrapper chain has it.
func (s *Store) removeStaleTemps(ctx context.Context, st *GCStats) error {
	for _, t := range s.targets {
		if c, ok := As[TempCleaner](t); ok {
			n, size, err := c.RemoveStaleTemp(ctx, staleTempAge)
			if err != nil {
				return err
			}
			st.OrphanObjectsDeleted += n
			st.BytesReclaimed += size
		}
	}
	return nil
}
