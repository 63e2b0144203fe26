package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// bitmapRun backs up a qcow2 twin of image A with a dirty bitmap (full),
// writes the changed regions into it with qemu-io, backs it up again (the
// bitmap incremental), and checks the twin now equals image B. It returns
// the two measures and the bytes the incremental read.
func bitmapRun(ctx context.Context, e *env, r *rewindTool, d *diskSet) (full, incr measure, read float64, err error) {
	twin := filepath.Join(e.work, "twin.qcow2")
	defer os.Remove(twin)
	if _, _, err = run(ctx, e.timeout(), cmdSpec{Args: []string{"qemu-img", "convert", "-O", "qcow2", d.A, twin}}); err != nil {
		return
	}
	if _, _, err = run(ctx, e.timeout(), cmdSpec{Args: []string{"qemu-img", "bitmap", "--add", twin, "bench"}}); err != nil {
		return
	}
	r.dir, r.item = e.repoDir("rewind", "qcow2"), "vm"
	defer r.Teardown()
	if err = os.MkdirAll(r.dir, 0o755); err != nil {
		return
	}
	if _, _, err = r.step(ctx, "item", "add", r.item, "--disk", "qcow2:"+twin, "--bitmap", "bench"); err != nil {
		return
	}
	dropCaches(e)
	if full, _, err = r.step(ctx, "backup", r.item); err != nil {
		return
	}
	if err = writeRegions(ctx, e, d, twin); err != nil {
		return
	}
	dropCaches(e)
	if incr, _, err = r.step(ctx, "backup", r.item); err != nil {
		return
	}
	p, err := r.lastPoint(ctx)
	if err != nil {
		return
	}
	if p.Kind != "incremental" {
		err = fmt.Errorf("the bitmap backup made a %q point", p.Kind)
		return
	}
	_, _, err = run(ctx, e.timeout(), cmdSpec{Args: []string{"qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw", twin, d.B}})
	if err != nil {
		err = fmt.Errorf("the qcow2 twin differs from image B after qemu-io: %w", err)
	}
	return full, incr, p.BytesRead, err
}

// writeRegions applies B's changed regions to the twin, one qemu-io write each.
func writeRegions(ctx context.Context, e *env, d *diskSet, twin string) error {
	args := []string{"qemu-io", "-f", "qcow2"}
	for _, i := range d.Changed {
		args = append(args, "-c", fmt.Sprintf("write -s %s %d %d", d.Files[i], int64(i)*region, region))
	}
	_, _, err := run(ctx, e.timeout(), cmdSpec{Args: append(args, twin)})
	return err
}
