package pathsafe

import (
	"errors"
	"fmt"
	"os/user"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// Options say what Resolve may do besides reading.
type Options struct {
	// Create makes every missing component a directory (mode 0755, owned by
	// the caller) inside the parent resolved so far, then resolves it like any
	// other component.
	Create bool
	// AllowMissing lets the end of the path be absent: Resolve then returns
	// the deepest existing directory in Dir, the rest in Missing, and FD -1.
	// Without it (and without Create) a missing component is an error
	// wrapping unix.ENOENT.
	AllowMissing bool
}

// Target is a path resolved safely. Close it when done.
type Target struct {
	// Path is the canonical absolute path: no symlink, "." or ".." left.
	// With Missing components it is the existing part joined with them.
	Path string
	// Dir is an O_PATH descriptor of Path's parent directory, or of the
	// deepest existing directory when components are missing ("/" for "/").
	Dir int
	// FD is an O_PATH descriptor of Path, -1 when it does not exist.
	FD int
	// Missing lists the components after Dir that do not exist (cleaned
	// lexically, which is exact since nothing below Dir exists to follow).
	Missing []string
	// Stat describes FD when it exists.
	Stat unix.Stat_t
}

// UnsafeLinkError: a symlink on the way is owned by a user other than root.
type UnsafeLinkError struct {
	Link  string // the link's canonical path
	UID   uint32 // its owner
	Owner string // the owner's user name, or "uid N"
}

func (e *UnsafeLinkError) Error() string {
	return fmt.Sprintf("%s is a symlink owned by %s, not root: it is not followed "+
		"(another user could point it anywhere); give the real directory instead", e.Link, e.Owner)
}

// Resolve walks p (absolute) from "/" component by component, following
// only root-owned symlinks (at most 40), and returns descriptors of what it
// reached. Errors name the component: a relative p wraps ErrRelative, a
// link owned by another user is an *UnsafeLinkError, a file where a directory
// is needed wraps unix.ENOTDIR, a missing component unix.ENOENT.
func Resolve(p string, opts Options) (*Target, error) {
	todo, err := Split(p)
	if err != nil {
		return nil, err
	}
	w, err := newWalker(opts)
	if err != nil {
		return nil, err
	}
	t, err := w.walk(p, todo)
	if err != nil {
		w.close()
		return nil, err
	}
	return t, nil
}

// walker holds the walk's state: cur is the directory reached (at canonical
// path at), parent its parent.
type walker struct {
	opts   Options
	parent int
	cur    int
	at     string
	links  int
}

func newWalker(opts Options) (*walker, error) {
	root, err := openPath(unix.AT_FDCWD, "/")
	if err != nil {
		return nil, fmt.Errorf("open /: %w", err)
	}
	dup, err := unix.FcntlInt(uintptr(root), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		unix.Close(root)
		return nil, err
	}
	return &walker{opts: opts, parent: dup, cur: root, at: "/"}, nil
}

func (w *walker) close() {
	closeFD(w.parent)
	closeFD(w.cur)
}

func (w *walker) walk(p string, todo []string) (*Target, error) {
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == ".." {
			if err := w.up(); err != nil {
				return nil, err
			}
			continue
		}
		more, done, err := w.step(c, todo)
		if err != nil || done != nil {
			return done, err
		}
		todo = more
	}
	return w.finish()
}

// step resolves one component below cur: it descends into a directory,
// queues a root-owned link's target, or ends the walk (a non-directory last
// component, or a missing one with AllowMissing).
func (w *walker) step(c string, todo []string) ([]string, *Target, error) {
	next, err := openPath(w.cur, c)
	if errors.Is(err, unix.ENOENT) && w.opts.Create {
		next, err = w.mkdir(c)
	}
	here := path.Join(w.at, c)
	if errors.Is(err, unix.ENOENT) && w.opts.AllowMissing {
		t, err := w.missing(append([]string{c}, todo...))
		return nil, t, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", here, err)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(next, "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		unix.Close(next)
		return nil, nil, fmt.Errorf("stat %s: %w", here, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		more, err := w.link(next, here, &st, todo)
		unix.Close(next)
		return more, nil, err
	case unix.S_IFDIR:
		w.descend(next, here)
		return todo, nil, nil
	}
	if len(todo) > 0 {
		unix.Close(next)
		return nil, nil, fmt.Errorf("%s is not a directory: %w", here, unix.ENOTDIR)
	}
	t := &Target{Path: here, Dir: w.cur, FD: next, Stat: st}
	closeFD(w.parent)
	return nil, t, nil
}

func (w *walker) mkdir(c string) (int, error) {
	if err := unix.Mkdirat(w.cur, c, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("create: %w", err)
	}
	return openPath(w.cur, c)
}

// link checks a symlink's owner and returns its target's components
// followed by the rest of the walk; an absolute target restarts at "/".
func (w *walker) link(fd int, here string, st *unix.Stat_t, todo []string) ([]string, error) {
	if st.Uid != 0 {
		return nil, &UnsafeLinkError{Link: here, UID: st.Uid, Owner: owner(st.Uid)}
	}
	if w.links++; w.links > maxLinks {
		return nil, fmt.Errorf("%s: more than %d symlinks on the way: %w", here, maxLinks, unix.ELOOP)
	}
	buf := make([]byte, maxPath+1)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return nil, fmt.Errorf("read symlink %s: %w", here, err)
	}
	target := string(buf[:n])
	comps, err := splitRest(target)
	if err != nil {
		return nil, fmt.Errorf("symlink %s: %w", here, err)
	}
	if path.IsAbs(target) {
		if err := w.restart(); err != nil {
			return nil, err
		}
	}
	return append(comps, todo...), nil
}

func (w *walker) descend(next int, here string) {
	closeFD(w.parent)
	w.parent, w.cur, w.at = w.cur, next, here
}

// up moves to the real parent of cur ("/" stays "/").
func (w *walker) up() error {
	if w.at == "/" {
		return nil
	}
	gp, err := openPath(w.parent, "..")
	if err != nil {
		return fmt.Errorf("open parent of %s: %w", path.Dir(w.at), err)
	}
	closeFD(w.cur)
	w.cur, w.parent, w.at = w.parent, gp, path.Dir(w.at)
	if w.at == "/" {
		closeFD(w.parent)
		w.parent, err = unix.FcntlInt(uintptr(w.cur), unix.F_DUPFD_CLOEXEC, 0)
	}
	return err
}

func (w *walker) restart() error {
	nw, err := newWalker(w.opts)
	if err != nil {
		return err
	}
	w.close()
	w.parent, w.cur, w.at = nw.parent, nw.cur, nw.at
	return nil
}

func (w *walker) missing(rest []string) (*Target, error) {
	for _, c := range rest {
		if c == ".." {
			return nil, fmt.Errorf("%s: \"..\" after a component that does not exist: %w",
				path.Join(w.at, rest[0]), unix.ENOENT)
		}
	}
	closeFD(w.parent)
	w.parent = -1
	return &Target{Path: path.Join(append([]string{w.at}, rest...)...), Dir: w.cur, FD: -1, Missing: rest}, nil
}

// finish ends a walk that stopped on a directory.
func (w *walker) finish() (*Target, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(w.cur, "", &st, unix.AT_EMPTY_PATH); err != nil {
		return nil, fmt.Errorf("stat %s: %w", w.at, err)
	}
	return &Target{Path: w.at, Dir: w.parent, FD: w.cur, Stat: st}, nil
}

func openPath(dir int, name string) (int, error) {
	return unix.Openat2(dir, name, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}

func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}

func owner(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return fmt.Sprintf("%s (uid %d)", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}
