package vmdisk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// restoreQcow2 restores into a temporary sparse raw file next to target and
// converts it with qemu-img; with Verify the conversion is compared too.
func restoreQcow2(ctx context.Context, r ChunkReader, m *mapRoot, target string, opts RestoreOptions) (*RestoreResult, error) {
	if opts.Dir != nil {
		return restoreQcow2At(ctx, r, m, target, opts)
	}
	if _, err := os.Stat(target); err == nil && !opts.Force {
		return nil, fmt.Errorf("restore target %s exists: pass --force to replace it with a new qcow2 image", target)
	}
	if err := checkTarget(target, opts); err != nil {
		return nil, err
	}
	tmp := filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".rewind-restore.raw")
	os.Remove(tmp)
	defer os.Remove(tmp)
	s, err := openFileSink(tmp, m.size)
	if err != nil {
		return nil, err
	}
	res, err := restoreTo(ctx, r, m, s, opts)
	s.Close()
	if err != nil {
		return nil, fmt.Errorf("restore to %s: %w", target, err)
	}
	if _, err := qemuImg(ctx, "convert", "-f", "raw", "-O", "qcow2", tmp, target); err != nil {
		return nil, fmt.Errorf("restore to %s: %w", target, err)
	}
	if opts.Verify {
		if _, err := qemuImg(ctx, "compare", "-q", "-f", "raw", "-F", "qcow2", tmp, target); err != nil {
			return nil, fmt.Errorf("verify %s against the point: %w", target, err)
		}
	}
	return res, nil
}
