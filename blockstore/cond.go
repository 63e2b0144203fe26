package blockstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrPrecondition: a conditional put found the object in another state than
// the caller expected (created or replaced by someone else meanwhile).
var ErrPrecondition = errors.New("object changed since it was read")

// Conditional is implemented by targets that can replace a small object
// only when nobody else changed it: the compare-and-swap an owner lease
// needs. Every target kind has it (dir: link/rename under a flock; S3:
// If-None-Match / If-Match on the ETag); wrappers pass it on through As.
type Conditional interface {
	// GetVersion reads the whole object (at most max bytes) and returns it
	// with an opaque version tag; ErrNotExist when there is none.
	GetVersion(ctx context.Context, name string, max int64) (data []byte, version string, err error)
	// PutIf stores data only when the object's version is still version;
	// version "" means only when no object exists. Otherwise ErrPrecondition.
	PutIf(ctx context.Context, name string, data []byte, version string) error
}

// maxConditional bounds a conditionally replaced object (leases are < 1 KiB).
const maxConditional = 1 << 20

func contentVersion(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// GetVersion reads name whole; its version is a hash of its content.
func (d *dirTarget) GetVersion(ctx context.Context, name string, max int64) ([]byte, string, error) {
	size, err := d.Stat(ctx, name)
	if err != nil {
		return nil, "", err
	}
	if size > max {
		return nil, "", fmt.Errorf("%s: %s is %d bytes, more than %d", d.Name(), name, size, max)
	}
	b := make([]byte, size)
	if err := d.ReadAt(ctx, name, b, 0); err != nil {
		return nil, "", err
	}
	return b, contentVersion(b), nil
}

// PutIf creates name with link(2) of a complete temp file (fails if it
// exists, like O_EXCL, and never leaves a partial object), or replaces it by
// rename after checking its content hash, under an exclusive flock of the
// target root so two processes cannot interleave check and rename.
func (d *dirTarget) PutIf(ctx context.Context, name string, data []byte, version string) error {
	if len(data) > maxConditional {
		return fmt.Errorf("%s: put %s: %d bytes is too large for a conditional put", d.Name(), name, len(data))
	}
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := d.mkdirs(filepath.Dir(p)); err != nil {
		return fmt.Errorf("%s: put %s: %w", d.Name(), name, err)
	}
	unlock, err := d.flockRoot()
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", d.Name(), name, err)
	}
	defer unlock()
	if version == "" {
		err = linkNew(filepath.Dir(p), p, data)
	} else {
		err = d.replaceIf(ctx, name, p, data, version)
	}
	if err != nil && !errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("%s: put %s: %w", d.Name(), name, err)
	}
	return err
}

func (d *dirTarget) replaceIf(ctx context.Context, name, p string, data []byte, version string) error {
	_, cur, err := d.GetVersion(ctx, name, maxConditional)
	if errors.Is(err, ErrNotExist) || (err == nil && cur != version) {
		return fmt.Errorf("%s: put %s: %w", d.Name(), name, ErrPrecondition)
	}
	if err != nil {
		return err
	}
	return writeTemp(filepath.Dir(p), p, data)
}

// linkNew writes data to a temp file, fsyncs it and hard-links it to p,
// which fails when p exists; the temp name is removed either way.
func linkNew(dir, p string, data []byte) error {
	tmp := filepath.Join(dir, tempPrefix+randHex8())
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists: %w", p, ErrPrecondition)
		}
		return err
	}
	return syncDir(dir)
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// flockRoot takes an exclusive flock on the target's root directory.
func (d *dirTarget) flockRoot() (func(), error) {
	f, err := os.Open(d.root)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", d.root, err)
	}
	return func() { f.Close() }, nil
}
