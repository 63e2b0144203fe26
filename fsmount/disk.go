package fsmount

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/rewind-backup/rewind/vmdisk"
	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// The disk adapter: a disk point as
//
//	disk.img               the whole disk
//	partitions/<n>.img     each partition
//	lvm/<vg>/<lv>.img      each LVM logical volume
//	files/<n>/…            the files of each readable volume
//	README.txt             beside images whose files are not shown: why
//
// Images are 0400 root: they hold every guest file regardless of the guest's
// own permissions, which the files/ trees keep.

// openDisk opens a disk point's image, probes its layout, and opens the
// guest file system of every readable volume.
func openDisk(ctx context.Context, r ChunkReader, p PointInfo, log *slog.Logger) (Dir, error) {
	img, err := vmdisk.OpenImage(ctx, r, p.Root)
	if err != nil {
		return nil, err
	}
	lay, err := guest.Probe(ctx, img, img.Size())
	if err != nil {
		return nil, err
	}
	t := newStaticTree(p.Time)
	t.file("disk.img", t.image(img, img.Size()))
	readme := map[string][]string{} // directory → lines
	if lay.Reason != "" {
		readme["."] = append(readme["."], "disk.img: "+lay.Reason)
	}
	for i := range lay.Volumes {
		v := &lay.Volumes[i]
		if v.Path != "disk.img" && validPath(v.Path) {
			t.file(v.Path, t.image(v.Reader, v.Size))
		}
		why := v.Reason
		if v.Readable() && validPath(v.FilesDir) {
			root, err := openGuest(ctx, v, t, log)
			if err == nil {
				t.file(v.FilesDir, root)
				continue
			}
			log.Warn("fsmount: guest file system does not open", "volume", v.Name, "type", v.Type, "err", err)
			why = fmt.Sprintf("The %s file system on this volume could not be read (%v). Restore the image to inspect it.", v.Type, err)
		}
		if why != "" {
			readme[path.Dir(v.Path)] = append(readme[path.Dir(v.Path)], path.Base(v.Path)+": "+why)
		}
	}
	for dir, lines := range readme {
		t.file(path.Join(dir, "README.txt"), t.text(readmeText(lines)))
	}
	return t.root, nil
}

func (t *staticTree) image(r interface {
	ReadAt([]byte, int64) (int, error)
}, size int64) Node {
	return &readerFile{attr: t.attr(syscall.S_IFREG|0o400, size), r: r}
}

func (t *staticTree) text(s string) Node {
	return &readerFile{attr: t.attr(syscall.S_IFREG|0o444, int64(len(s))), r: strings.NewReader(s)}
}

func readmeText(lines []string) string {
	sort.Strings(lines)
	return "Files of these volumes are not shown:\n\n" + strings.Join(lines, "\n\n") + "\n"
}

// validPath accepts the relative slash paths Probe reports, nothing that
// could leave the point's directory.
func validPath(p string) bool {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p {
		return false
	}
	for _, e := range strings.Split(p, "/") {
		if !validName(e) {
			return false
		}
	}
	return true
}
