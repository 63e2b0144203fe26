package guest

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
)

// AsIOFS adapts f to io/fs. Open follows symlinks that stay inside the volume
// (absolute targets are taken relative to the volume root, at most 40 hops);
// Lstat and ReadLink (fs.ReadLinkFS) do not follow. Stat and ReadDir are
// also provided. Files implement io.ReaderAt and io.Seeker.
func AsIOFS(f FS) fs.FS { return ioFS{f} }

type ioFS struct{ f FS }

var (
	_ fs.StatFS     = ioFS{}
	_ fs.ReadDirFS  = ioFS{}
	_ fs.ReadLinkFS = ioFS{}
)

const maxHops = 40

// resolve follows symlinks in every component of name.
func (x ioFS) resolve(op, name string) (string, Entry, error) {
	if !fs.ValidPath(name) {
		return "", Entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	hops := 0
	done := "."
	rest := name
	for {
		if rest == "." || rest == "" {
			e, err := x.f.Stat(done)
			return done, e, err
		}
		part, tail, _ := strings.Cut(rest, "/")
		next := path.Join(done, part)
		e, err := x.f.Stat(next)
		if err != nil {
			return "", Entry{}, &fs.PathError{Op: op, Path: name, Err: unwrapPath(err)}
		}
		if e.Mode&fs.ModeSymlink == 0 {
			done, rest = next, tail
			continue
		}
		hops++
		if hops > maxHops {
			return "", Entry{}, &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := x.f.Readlink(next)
		if err != nil {
			return "", Entry{}, &fs.PathError{Op: op, Path: name, Err: unwrapPath(err)}
		}
		base := done
		if strings.HasPrefix(target, "/") {
			base = "."
		}
		joined := path.Join("/", base, target) // "/" root clamps ".." escapes
		joined = strings.TrimPrefix(joined, "/")
		if joined == "" {
			joined = "."
		}
		done = "."
		if tail != "" {
			rest = path.Join(joined, tail)
		} else {
			rest = joined
		}
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (x ioFS) Open(name string) (fs.File, error) {
	real, e, err := x.resolve("open", name)
	if err != nil {
		return nil, err
	}
	e.Name = path.Base(name)
	if e.Mode.IsDir() {
		ents, err := x.f.ReadDir(real)
		if err != nil {
			return nil, err
		}
		return &ioDir{e: e, ents: ents}, nil
	}
	if !e.Mode.IsRegular() {
		return &ioFile{e: e, r: io.NewSectionReader(emptyReader{}, 0, 0)}, nil
	}
	f, err := x.f.Open(real)
	if err != nil {
		return nil, err
	}
	return &ioFile{e: e, f: f, r: io.NewSectionReader(f, 0, f.Size())}, nil
}

func (x ioFS) Stat(name string) (fs.FileInfo, error) {
	_, e, err := x.resolve("stat", name)
	if err != nil {
		return nil, err
	}
	e.Name = path.Base(name)
	return e.Info(), nil
}

func (x ioFS) Lstat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrInvalid}
	}
	e, err := x.f.Stat(name)
	if err != nil {
		return nil, err
	}
	e.Name = path.Base(name)
	return e.Info(), nil
}

func (x ioFS) ReadLink(name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return x.f.Readlink(name)
}

func (x ioFS) ReadDir(name string) ([]fs.DirEntry, error) {
	real, _, err := x.resolve("readdir", name)
	if err != nil {
		return nil, err
	}
	ents, err := x.f.ReadDir(real)
	if err != nil {
		return nil, err
	}
	return dirEntries(ents), nil
}

func dirEntries(ents []Entry) []fs.DirEntry {
	out := make([]fs.DirEntry, len(ents))
	for i, e := range ents {
		out[i] = fs.FileInfoToDirEntry(e.Info())
	}
	return out
}

type emptyReader struct{}

func (emptyReader) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }

type ioFile struct {
	e Entry
	f File
	r *io.SectionReader
}

func (f *ioFile) Stat() (fs.FileInfo, error)                { return f.e.Info(), nil }
func (f *ioFile) Read(p []byte) (int, error)                { return f.r.Read(p) }
func (f *ioFile) ReadAt(p []byte, off int64) (int, error)   { return f.r.ReadAt(p, off) }
func (f *ioFile) Seek(off int64, whence int) (int64, error) { return f.r.Seek(off, whence) }
func (f *ioFile) Close() error                              { return nil }

type ioDir struct {
	e    Entry
	ents []Entry
	pos  int
}

func (d *ioDir) Stat() (fs.FileInfo, error) { return d.e.Info(), nil }
func (d *ioDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.e.Name, Err: errors.New("is a directory")}
}
func (d *ioDir) Close() error { return nil }

func (d *ioDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.pos:]
	if n <= 0 {
		d.pos = len(d.ents)
		return dirEntries(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.pos += n
	return dirEntries(rest[:n]), nil
}
