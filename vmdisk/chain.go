package vmdisk

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// MaxChainDepth bounds a qcow2 backing chain (the image plus its backing
// files). QEMU has no small limit; a deeper chain is refused as hostile.
const MaxChainDepth = 16

// Roles of the files of a chain.
const (
	ChainImage    = "image"     // the item's own qcow2 image
	ChainBacking  = "backing"   // a backing file (qcow2 or raw)
	ChainDataFile = "data-file" // a qcow2 external data file (raw)
)

// ChainFile is one file a qcow2 source's content comes from, as its headers
// name it (read by rewind, never by qemu). Depth is 0 for the image, 1 for
// its backing file, and so on; a data file has the depth of its image.
type ChainFile struct {
	Role   string    `json:"role"`
	Depth  int       `json:"depth"`
	Path   string    `json:"path"`   // absolute, symlinks resolved
	Format string    `json:"format"` // "qcow2" or "raw"
	Size   int64     `json:"size"`   // bytes
	MTime  time.Time `json:"mtime"`
}

// Chain is a qcow2 image's files, image first, each backing file after the
// one that names it (a data file right after its image).
type Chain []ChainFile

// ChainError is a chain rewind refuses to open. File names the offending
// file as its header names it.
type ChainError struct {
	Image  string // the image whose header names File
	File   string
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("qcow2 image %s names %q: %s", e.Image, e.File, e.Reason)
}

// ReadChain reads the backing chain of the qcow2 image at path from the
// images' own headers (no qemu process runs). Every backing file and data
// file must resolve (symlinks followed) to a path inside the image's own
// directory or one of roots; anything else, a loop, a chain deeper than
// MaxChainDepth, or a backing format other than qcow2 and raw is refused
// with a *ChainError naming the file.
func ReadChain(path string, roots []string) (Chain, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("qcow2 image %s: %w", path, err)
	}
	allowed, err := chainRoots(filepath.Dir(real), roots)
	if err != nil {
		return nil, err
	}
	w := chainWalk{allowed: allowed, seen: map[string]bool{}}
	return w.walk(abs, real)
}

// chainRoots resolves the directories a chain may use.
func chainRoots(imageDir string, roots []string) ([]string, error) {
	out := []string{imageDir}
	for _, r := range roots {
		real, err := filepath.EvalSymlinks(r)
		if err != nil {
			return nil, fmt.Errorf("source_roots entry %s: %w", r, err)
		}
		out = append(out, real)
	}
	return out, nil
}

type chainWalk struct {
	allowed []string
	seen    map[string]bool
	chain   Chain
}

// walk follows the chain from the image named name (as its parent named
// it, for relative paths) whose real path is real.
func (w *chainWalk) walk(name, real string) (Chain, error) {
	format := "qcow2"
	for depth := 0; ; depth++ {
		if depth >= MaxChainDepth {
			return nil, &ChainError{Image: name, File: real, Reason: fmt.Sprintf("the backing chain is deeper than %d files", MaxChainDepth)}
		}
		w.seen[real] = true
		h, err := w.add(depth, real, format)
		if err != nil || h == nil || h.Backing == "" {
			return w.chain, err
		}
		next, nextReal, nextFormat, err := w.backing(name, real, h)
		if err != nil {
			return nil, err
		}
		name, real, format = next, nextReal, nextFormat
	}
}

// add records the file at depth and, for a qcow2, reads its header and
// its data file.
func (w *chainWalk) add(depth int, real, format string) (*qcowHeader, error) {
	role := ChainBacking
	if depth == 0 {
		role = ChainImage
	}
	f, err := openChainFile(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cf, err := statChainFile(f, role, depth, real, format)
	if err != nil {
		return nil, err
	}
	w.chain = append(w.chain, cf)
	if format == "raw" {
		return nil, nil
	}
	h, err := parseQcow2Header(f)
	if err != nil {
		return nil, fmt.Errorf("qcow2 image %s: %w", real, err)
	}
	return h, w.dataFile(depth, real, h)
}

// openChainFile opens a chain member without blocking (a FIFO planted in
// the image's directory must not hang the backup) and refuses anything but a
// regular file or a block device.
func openChainFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !chainFileType(st.Mode()) {
		err = &ChainError{Image: path, File: path, Reason: "not a regular file or block device: refused as a chain member"}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func chainFileType(m os.FileMode) bool {
	return m.IsRegular() || m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0
}

func statChainFile(f *os.File, role string, depth int, real, format string) (ChainFile, error) {
	st, err := f.Stat()
	if err != nil {
		return ChainFile{}, err
	}
	size := st.Size()
	if st.Mode()&os.ModeDevice != 0 {
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			return ChainFile{}, fmt.Errorf("size of block device %s: %w", real, err)
		}
	}
	return ChainFile{Role: role, Depth: depth, Path: real, Format: format, Size: size, MTime: st.ModTime().UTC()}, nil
}

// dataFile checks and records the external data file of image real.
func (w *chainWalk) dataFile(depth int, real string, h *qcowHeader) error {
	if !h.DataFile {
		if h.DataFileName != "" {
			return &ChainError{Image: real, File: h.DataFileName, Reason: "a data-file extension without the external-data feature bit: a broken or hostile header"}
		}
		return nil
	}
	if h.DataFileName == "" {
		return &ChainError{Image: real, File: "", Reason: "the image keeps its data in an external file it does not name"}
	}
	p, err := w.resolve(real, real, h.DataFileName)
	if err != nil {
		return err
	}
	f, err := openChainFile(p)
	if err != nil {
		return fmt.Errorf("data file of %s: %w", real, err)
	}
	defer f.Close()
	cf, err := statChainFile(f, ChainDataFile, depth, p, "raw")
	if err == nil {
		w.chain = append(w.chain, cf)
	}
	return err
}

// backing checks the backing file h names and returns its path as QEMU
// would name it, its real path and its format.
func (w *chainWalk) backing(name, real string, h *qcowHeader) (string, string, string, error) {
	fail := func(reason string) (string, string, string, error) {
		return "", "", "", &ChainError{Image: real, File: h.Backing, Reason: reason}
	}
	next := h.Backing
	if !filepath.IsAbs(next) {
		next = filepath.Join(filepath.Dir(name), next)
	}
	nextReal, err := w.resolve(real, name, h.Backing)
	if err != nil {
		return "", "", "", err
	}
	if w.seen[nextReal] {
		return fail("the backing chain loops back to " + nextReal)
	}
	format, err := backingFormat(h.BackingFormat, nextReal)
	if err != nil {
		return fail(err.Error())
	}
	return next, nextReal, format, nil
}

// resolve turns a file name from the header of image (reached as name) into
// a real path inside the allowed directories.
func (w *chainWalk) resolve(real, name, file string) (string, error) {
	fail := func(reason string) (string, error) {
		return "", &ChainError{Image: real, File: file, Reason: reason}
	}
	if strings.HasPrefix(file, "json:") || strings.ContainsRune(file, 0) {
		return fail("a json: or binary name; rewind follows plain file names only")
	}
	p := file
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(name), p)
	}
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fail(fmt.Sprintf("cannot be resolved (%v)", err))
	}
	if !w.inside(r) {
		return fail(fmt.Sprintf("resolves to %s, outside the image's directory and source_roots (%s): refused, rewind reads no other host file", r, strings.Join(w.allowed, ", ")))
	}
	return r, nil
}

func (w *chainWalk) inside(p string) bool {
	for _, root := range w.allowed {
		if p == root || strings.HasPrefix(p, strings.TrimSuffix(root, "/")+"/") {
			return true
		}
	}
	return false
}

// backingFormat checks the format the header names, probing like QEMU does
// when it names none.
func backingFormat(named, real string) (string, error) {
	switch named {
	case "qcow2", "raw":
		return named, nil
	case "":
		f, err := openChainFile(real)
		if err != nil {
			return "", err
		}
		defer f.Close()
		var magic [4]byte
		if n, _ := f.ReadAt(magic[:], 0); n == 4 && string(magic[:]) == qcowMagic {
			return "qcow2", nil
		}
		return "raw", nil
	}
	return "", fmt.Errorf("backing format %q: rewind follows qcow2 and raw backing files only", named)
}

// ChangedFrom reports why c differs from prev, or "" when it does not. The
// image itself and its data file change with every guest write, so only
// their paths count; backing files must keep path, format, size and mtime.
func (c Chain) ChangedFrom(prev Chain) string {
	if len(c) != len(prev) {
		return fmt.Sprintf("%d files now, %d at the previous point", len(c), len(prev))
	}
	for i, f := range c {
		p := prev[i]
		switch {
		case f.Role != p.Role || f.Depth != p.Depth || f.Path != p.Path || f.Format != p.Format:
			return fmt.Sprintf("%s %s (%s) was %s %s (%s)", f.Role, f.Path, f.Format, p.Role, p.Path, p.Format)
		case f.Depth > 0 && (f.Size != p.Size || !f.MTime.Equal(p.MTime)):
			return fmt.Sprintf("%s %s changed (size %d, mtime %s; was %d, %s)", f.Role, f.Path, f.Size,
				f.MTime.Format(time.RFC3339Nano), p.Size, p.MTime.Format(time.RFC3339Nano))
		}
	}
	return ""
}
