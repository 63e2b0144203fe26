package tests

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRestoreFilesFromDisk builds a GPT disk with an ext4 partition made by
// mke2fs -d, backs it up, and copies a folder out of the point with
// "restore files" and through the mount.
func TestRestoreFilesFromDisk(t *testing.T) {
	need(t, "sgdisk", "mke2fs", "fusermount3")
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "guest")
	makeTree(t, filepath.Join(src, "data"))
	disk := filepath.Join(d.dir, "vm.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(disk, 64<<20)
	sh(t, "sgdisk", "-n", "1:2048:+40M", "-t", "1:8300", disk)
	sh(t, "mke2fs", "-q", "-t", "ext4", "-E", "offset=1048576", "-d", src, disk, "40M")
	d.must("item", "add", "vm-files", "--disk", disk)
	d.must("backup", "vm-files")

	out := filepath.Join(d.dir, "out")
	d.must("restore", "files", "vm-files", "--point", "latest", "--path", "data/docs", "--path", "data/big.bin", "--to", out, "--volume", "1")
	compareTrees(t, filepath.Join(src, "data", "docs"), filepath.Join(out, "data", "docs"))
	compareEntry(t, "big.bin", filepath.Join(src, "data", "big.bin"), filepath.Join(out, "data", "big.bin"))
	if _, errOut, code := d.run("restore", "files", "vm-files", "--point", "latest", "--path", "../../etc/passwd", "--to", filepath.Join(d.dir, "out2")); code == 0 {
		t.Fatalf("a path outside the volume must not be found: %s", errOut)
	}

	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	d.must("mount", mnt, "--item", "vm-files")
	defer d.run("umount", mnt)
	compareTrees(t, filepath.Join(src, "data"), filepath.Join(mnt, "vm-files", "latest", "files", "1", "data"))
	if _, err := os.Stat(filepath.Join(mnt, "vm-files", "latest", "partitions", "1.img")); err != nil {
		t.Errorf("partitions/1.img: %v", err)
	}
}
