package fsmount

import (
	"context"
	"errors"
	"log/slog"
)

// openDisk opens a disk point's layout (vmdisk).
func openDisk(ctx context.Context, r ChunkReader, p PointInfo, log *slog.Logger) (Dir, error) {
	return nil, errors.New("disk points: vmdisk reader not available yet")
}
