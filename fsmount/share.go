package fsmount

import (
	"context"
	"errors"
)

// openShare opens a share point's tree (fileshare).
func openShare(ctx context.Context, r ChunkReader, p PointInfo) (Dir, error) {
	return nil, errors.New("share points: fileshare reader not available yet")
}
