package vmdisk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Bitmap generations of a qcow2 source. rewind never trusts a bitmap it did
// not create itself for this item: before each backup it adds generation n+1
// ("<Bitmap>.rewind.<n+1>") and plants a canary in it (the last 512 bytes of
// the disk marked dirty, merged in from a scratch image), reads the blocks
// generation n marks, and after the caller's commit removes generation n.
// A generation that is missing, inconsistent, or lacks its canary (deleted
// and recreated) is not trusted: the backup compares block hashes instead.

func genName(base string, gen int) string { return base + ".rewind." + strconv.Itoa(gen) }

// maxGen returns the highest rewind generation of base present in info.
func maxGen(info *qcowInfo, base string) int {
	g := 0
	for _, b := range info.Specific.Data.Bitmaps {
		if n, err := strconv.Atoi(strings.TrimPrefix(b.Name, base+".rewind.")); err == nil && strings.HasPrefix(b.Name, base+".rewind.") {
			g = max(g, n)
		}
	}
	return g
}

// openQcow2 reads and checks the image's backing chain, then starts
// qemu-nbd on exactly that chain and sets up bitmap generations.
func (s *session) openQcow2(ctx context.Context, prev *Prev, opts BackupOptions) error {
	if err := s.readChain(prev, opts); err != nil {
		return err
	}
	img, err := s.chain.qemuSpec(true)
	if err != nil {
		return err
	}
	info, err := readQcowInfo(ctx, img)
	if err != nil {
		return err
	}
	if opts.Bitmap == "" {
		return s.serveQcow2(ctx, opts, "")
	}
	cur := s.trustedGen(info, prev, opts.Bitmap)
	next := max(maxGen(info, opts.Bitmap), recordedGen(prev, opts.Bitmap)) + 1
	if err := addGeneration(ctx, img, info.VirtualSize, genName(opts.Bitmap, next)); err != nil {
		return err
	}
	s.state = encodeState(sourceState{Kind: stateQcow2, Bitmap: opts.Bitmap, Gen: next})
	s.cleanup = func(ok bool) error {
		if ok {
			return nil
		}
		_, err := qemuImg(context.WithoutCancel(ctx), "bitmap", "--remove", "-f", "qcow2", img, genName(opts.Bitmap, next))
		return err
	}
	s.commit = func(ctx context.Context) error { return removeOldGens(ctx, img, opts.Bitmap, next) }
	curName := ""
	if cur > 0 {
		curName = genName(opts.Bitmap, cur)
	}
	if err := s.serveQcow2(ctx, opts, curName); err != nil {
		return err
	}
	if cur > 0 {
		return s.checkCanary(ctx, curName, info.VirtualSize)
	}
	return nil
}

// trustedGen returns the generation the previous point recorded if it is
// present and consistent, else 0 (with a warning when there was a point).
func (s *session) trustedGen(info *qcowInfo, prev *Prev, base string) int {
	if prev == nil {
		return 0
	}
	ps, err := decodeState(prev.SourceState)
	distrust := func(why string) int {
		s.warn("dirty bitmap %q not trusted (%s): changed blocks found by hash comparison", base, why)
		return 0
	}
	switch {
	case s.chainChange != "":
		return distrust("the backing chain changed since the previous point: " + s.chainChange)
	case err != nil:
		return distrust(err.Error())
	case ps.Kind != stateQcow2 || ps.Bitmap != base || ps.Gen <= 0:
		return distrust("the previous point recorded no generation of this bitmap")
	}
	b := info.bitmap(genName(base, ps.Gen))
	switch {
	case b == nil:
		return distrust(fmt.Sprintf("generation %s is missing from the image", genName(base, ps.Gen)))
	case hasFlag(b.Flags, "in-use"):
		return distrust(fmt.Sprintf("generation %s is marked in-use (inconsistent after a crash)", b.Name))
	case !hasFlag(b.Flags, "auto"):
		return distrust(fmt.Sprintf("generation %s is disabled and did not record writes", b.Name))
	}
	return ps.Gen
}

// recordedGen is the generation prev recorded for base, trusted or not, so
// generation numbers never repeat.
func recordedGen(prev *Prev, base string) int {
	if prev == nil {
		return 0
	}
	ps, err := decodeState(prev.SourceState)
	if err != nil || ps.Kind != stateQcow2 || ps.Bitmap != base {
		return 0
	}
	return max(ps.Gen, 0)
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// serveQcow2 starts qemu-nbd on the checked chain, connects the NBD
// source to it, and checks the headers still name the chain it opened.
func (s *session) serveQcow2(ctx context.Context, opts BackupOptions, bitmap string) error {
	spec, err := s.chain.qemuSpec(false)
	if err != nil {
		return err
	}
	p, err := startQemuNBD(ctx, spec, bitmap)
	if err != nil {
		return err
	}
	ctxs := []string{metaAllocation}
	if bitmap != "" {
		ctxs = append(ctxs, metaBitmapPfx+bitmap)
	}
	c, err := dialNBD(ctx, p.uri, ctxs)
	if err != nil {
		p.stop()
		return err
	}
	s.src = &qemuSource{nbdSource: &nbdSource{c: c, bitmap: metaBitmapPfx + bitmap}, proc: p}
	return s.recheckChain(opts)
}

// qemuSource is an NBD source whose server rewind started and stops on Close.
type qemuSource struct {
	*nbdSource
	proc *qemuNBDProc
}

func (q *qemuSource) Close() error {
	err := q.nbdSource.Close()
	q.proc.stop()
	return err
}

// checkCanary trusts generation name only if its canary bit is still set.
func (s *session) checkCanary(ctx context.Context, name string, size int64) error {
	src := s.src.(*qemuSource)
	dirty, err := src.Dirty(ctx, size-512, 512)
	if err != nil {
		return fmt.Errorf("read canary of bitmap %s: %w", name, err)
	}
	if len(dirty) == 0 {
		s.warn("dirty bitmap %s lost its canary (deleted and recreated?): not trusted, changed blocks found by hash comparison", name)
		return nil
	}
	s.dirty = src
	return nil
}

// addGeneration adds bitmap name (higher than any generation present, so
// never a stale one) and plants its canary.
func addGeneration(ctx context.Context, path string, size int64, name string) error {
	if _, err := qemuImg(ctx, "bitmap", "--add", "-f", "qcow2", path, name); err != nil {
		return err
	}
	if err := plantCanary(ctx, path, size, name); err != nil {
		qemuImg(context.WithoutCancel(ctx), "bitmap", "--remove", "-f", "qcow2", path, name)
		return fmt.Errorf("bitmap %s: plant canary: %w", name, err)
	}
	return nil
}

// plantCanary marks the last 512 bytes dirty in bitmap name by merging a
// bitmap from a scratch image where only that range was written.
func plantCanary(ctx context.Context, path string, size int64, name string) error {
	if size < 512 {
		return errors.New("disk smaller than 512 bytes")
	}
	dir, err := os.MkdirTemp("", "rewind-canary-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	side := filepath.Join(dir, "canary.qcow2")
	steps := [][]string{
		{"create", "-q", "-f", "qcow2", side, strconv.FormatInt(size, 10)},
		{"bitmap", "--add", "-f", "qcow2", side, "canary"},
	}
	for _, a := range steps {
		if _, err := qemuImg(ctx, a...); err != nil {
			return err
		}
	}
	if err := qemuIO(ctx, side, fmt.Sprintf("write %d 512", size-512)); err != nil {
		return err
	}
	_, err = qemuImg(ctx, "bitmap", "--merge", "canary", "-b", side, "-F", "qcow2", "-f", "qcow2", path, name)
	return err
}

// removeOldGens removes every rewind generation of base except keep.
func removeOldGens(ctx context.Context, path, base string, keep int) error {
	info, err := readQcowInfo(ctx, path)
	if err != nil {
		return fmt.Errorf("rotate bitmap %s: %w", base, err)
	}
	var errs []error
	for _, b := range info.Specific.Data.Bitmaps {
		if strings.HasPrefix(b.Name, base+".rewind.") && b.Name != genName(base, keep) {
			if _, err := qemuImg(ctx, "bitmap", "--remove", "-f", "qcow2", path, b.Name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
