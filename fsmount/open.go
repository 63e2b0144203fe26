package fsmount

import (
	"context"
	"fmt"
	"log/slog"
)

// pointOpener opens points with the share and disk adapters, reading chunks
// through r (the mount's cache).
func pointOpener(r ChunkReader, log *slog.Logger) opener {
	return func(ctx context.Context, item string, p PointInfo) (Dir, error) {
		switch p.Kind {
		case KindShare:
			return openShare(ctx, r, p)
		case KindDisk:
			return openDisk(ctx, r, p, log)
		}
		return nil, fmt.Errorf("unknown point kind %q", p.Kind)
	}
}
