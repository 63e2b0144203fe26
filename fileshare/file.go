package fileshare

import (
	"context"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

var errTooManyPages = errors.New("directory has more than 32M entries: split it to back it up")

// fileJob hands an opened regular file to a reader.
type fileJob struct {
	pe   *pending
	f    *os.File
	path string
}

// fileEntry records a regular file: a later name of a hardlinked inode
// takes the first name's data, an unchanged file reuses the previous
// point's data, anything else is queued for a reader.
func (b *backup) fileEntry(ctx context.Context, dirfd int, path string, n *Node, st *unix.Stat_t, prev *Node) (*pending, error) {
	b.filesScanned.Add(1)
	b.sourceBytes.Add(n.Size)
	defer b.progress(false)
	if st.Nlink <= 1 {
		return b.fileData(ctx, dirfd, path, n, prev)
	}
	key := [2]uint64{st.Dev, st.Ino}
	if h, ok := b.links[key]; ok {
		n.LinkPath = h.path
		p := ready(n)
		p.link = h.pe
		return p, nil
	}
	pe, err := b.fileData(ctx, dirfd, path, n, prev)
	if pe != nil && len(path) <= maxLinkPathLen {
		b.links[key] = &hardlink{path: path, pe: pe}
	}
	return pe, err
}

func (b *backup) fileData(ctx context.Context, dirfd int, path string, n *Node, prev *Node) (*pending, error) {
	if unchanged(prev, n) {
		takeData(n, prev)
		return ready(n), nil
	}
	if n.Size == 0 {
		return ready(n), nil
	}
	fd, err := openNoatime(dirfd, n.Name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK)
	if err != nil {
		b.warnEntry(path, err)
		return nil, nil
	}
	pe := queued(n)
	select {
	case b.jobs <- &fileJob{pe: pe, f: os.NewFile(uintptr(fd), path), path: path}:
		return pe, nil
	case <-ctx.Done():
		unix.Close(fd)
		return nil, ctx.Err()
	}
}

// unchanged: same size, mtime, ctime and inode as in the previous point.
func unchanged(prev, n *Node) bool {
	return prev != nil && prev.Type == TypeFile && prev.Size == n.Size && prev.ino == n.ino &&
		prev.Mtime.Equal(n.Mtime) && prev.Ctime.Equal(n.Ctime)
}

func takeData(n, from *Node) {
	n.inline, n.extents, n.lists = from.inline, from.extents, from.lists
}

// adoptLink gives a later hardlink name the data of the first one.
func (b *backup) adoptLink(ctx context.Context, p *pending) error {
	if err := p.link.wait(ctx); err != nil {
		return err
	}
	if p.link.skip {
		b.warn("%s: hardlink of %s, which was not backed up: not recorded", quote(p.n.Name), showPath(p.n.LinkPath))
		p.skip = true
		return nil
	}
	f := p.link.n
	p.n.Size, p.n.Mtime, p.n.Ctime = f.Size, f.Mtime, f.Ctime
	takeData(p.n, f)
	return nil
}
