package daemon

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vault"
)

// checkSharePaths refuses, with CodeNotFound (exit 4), a restore of a share
// point when none of the requested paths is in it: nothing would be
// restored. When some are there the job runs and warns for the others
// (exit 3). Paths of disk points are looked up by the job, which has to
// open the volume anyway.
func checkSharePaths(ctx context.Context, v *vault.Vault, it vault.Item, p vault.Point, paths []string) error {
	if it.Source.Kind != vault.KindShare || len(paths) == 0 {
		return nil
	}
	tree, err := fileshare.OpenTree(ctx, v.Store(), p.Root)
	if err != nil {
		return err
	}
	for _, path := range paths {
		if slices.ContainsFunc(strings.Split(path, "/"), func(c string) bool { return c == "." || c == ".." }) {
			return nil // not a path in the point: the job refuses it with the reason
		}
		_, err := tree.Lookup(ctx, path)
		if err == nil || !errors.Is(err, fileshare.ErrNotExist) {
			return nil // found, or an error the job reports with context
		}
	}
	return Errf(CodeNotFound, "%s is not in point %s of %s, nothing to restore: browse the point with \"rewind mount DIR --item %s --point %s\"",
		strings.Join(paths, ", "), p.ID, it.Name, it.Name, p.ID)
}
