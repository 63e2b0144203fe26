package blockstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix marks a dir target's in-progress Put files; List skips them.
const tempPrefix = ".tmp-"

type dirTarget struct{ root string }

// NewDirTarget returns a Target storing objects as files under root (created
// if missing). Put writes a temp file, fsyncs it, renames it into place and
// fsyncs the directory.
func NewDirTarget(root string) (Target, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("dir target %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("dir target: %w", err)
	}
	return &dirTarget{root: abs}, nil
}

func (d *dirTarget) Name() string { return "dir:" + d.root }

func (d *dirTarget) path(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return "", fmt.Errorf("%s: invalid object name %q", d.Name(), name)
	}
	for _, c := range strings.Split(name, "/") {
		if c == "" || c == "." || c == ".." || strings.HasPrefix(c, tempPrefix) {
			return "", fmt.Errorf("%s: invalid object name %q", d.Name(), name)
		}
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

func (d *dirTarget) Put(ctx context.Context, name string, data []byte) error {
	return d.PutParts(ctx, name, data)
}

// PutParts stores the concatenation of parts as one object, like Put,
// without the caller joining them first.
func (d *dirTarget) PutParts(ctx context.Context, name string, parts ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.path(name)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := d.mkdirs(dir); err != nil {
		return fmt.Errorf("%s: put %s: %w", d.Name(), name, err)
	}
	if err := writeTemp(dir, p, parts...); err != nil {
		return fmt.Errorf("%s: put %s: %w", d.Name(), name, err)
	}
	return nil
}

// mkdirs creates dir under the root and fsyncs each parent whose entries
// changed, so a new directory survives a crash along with its first object.
func (d *dirTarget) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil || dir == d.root {
		return nil
	}
	if err := d.mkdirs(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// writeTemp writes data next to p, fsyncs, renames onto p, fsyncs dir.
func writeTemp(dir, p string, parts ...[]byte) error {
	tmp := filepath.Join(dir, tempPrefix+randHex8())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	for _, part := range parts {
		if _, err = f.Write(part); err != nil {
			break
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// randHex8 is 8 random bytes in hex: a temp file name's unique part.
func randHex8() string {
	var rnd [8]byte
	rand.Read(rnd[:])
	return hex.EncodeToString(rnd[:])
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func (d *dirTarget) ReadAt(ctx context.Context, name string, p []byte, off int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fp, err := d.path(name)
	if err != nil {
		return err
	}
	f, err := os.Open(fp)
	if err != nil {
		return d.wrap("read", name, err)
	}
	defer f.Close()
	n, err := f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == io.EOF || err == nil {
		err = io.ErrUnexpectedEOF
	}
	return d.wrap("read", name, err)
}

func (d *dirTarget) wrap(op, name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %s %s: %w", d.Name(), op, name, ErrNotExist)
	}
	return fmt.Errorf("%s: %s %s: %w", d.Name(), op, name, err)
}

func (d *dirTarget) Stat(ctx context.Context, name string) (int64, error) {
	fp, err := d.path(name)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(fp)
	if err != nil {
		return 0, d.wrap("stat", name, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: stat %s: %w", d.Name(), name, ErrNotExist)
	}
	return fi.Size(), nil
}

func (d *dirTarget) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	base := d.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		base = filepath.Join(d.root, filepath.FromSlash(prefix[:i]))
	}
	err := filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if e.IsDir() || !e.Type().IsRegular() || strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		return d.visit(p, prefix, e, fn)
	})
	if err != nil {
		return fmt.Errorf("%s: list %q: %w", d.Name(), prefix, err)
	}
	return nil
}

func (d *dirTarget) visit(p, prefix string, e fs.DirEntry, fn func(string, int64) error) error {
	rel, err := filepath.Rel(d.root, p)
	if err != nil {
		return err
	}
	name := filepath.ToSlash(rel)
	if !strings.HasPrefix(name, prefix) {
		return nil
	}
	fi, err := e.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return fn(name, fi.Size())
}

func (d *dirTarget) Delete(ctx context.Context, name string) error {
	fp, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(fp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: delete %s: %w", d.Name(), name, err)
	}
	return nil
}
