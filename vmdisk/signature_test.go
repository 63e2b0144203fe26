package vmdisk

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignatureRealImages builds each format with its own tool and checks
// Signature names it; a blank file and a file of text name nothing.
func TestSignatureRealImages(t *testing.T) {
	cases := []struct {
		want string
		size int64
		cmd  []string // IMG is replaced by the image path
	}{
		{"ext2/3/4", 8 << 20, []string{"mkfs.ext4", "-q", "-F", "IMG"}},
		{"XFS", 320 << 20, []string{"mkfs.xfs", "-q", "-f", "IMG"}},
		{"FAT", 8 << 20, []string{"mkfs.vfat", "IMG"}},
		{"NTFS", 8 << 20, []string{"mkfs.ntfs", "-q", "-F", "-Q", "IMG"}},
		{"swap", 8 << 20, []string{"mkswap", "IMG"}},
		{"MBR", 8 << 20, []string{"sh", "-c", "echo 'start=2048, type=83' | sfdisk -q IMG"}},
		{"GPT", 8 << 20, []string{"sh", "-c", "echo 'label: gpt' | sfdisk -q IMG"}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if _, err := exec.LookPath(c.cmd[0]); err != nil && c.cmd[0] != "sh" {
				t.Fatalf("%s is not installed: run \"make test-deps\"", c.cmd[0])
			}
			img := filepath.Join(dir, strings.ReplaceAll(c.want, "/", "-")+".img")
			if err := os.WriteFile(img, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(img, c.size); err != nil {
				t.Fatal(err)
			}
			args := make([]string, len(c.cmd))
			for i, a := range c.cmd {
				args[i] = strings.ReplaceAll(a, "IMG", img)
			}
			if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := Signature(f); !strings.Contains(got, c.want) {
				t.Fatalf("Signature = %q, want it to name %s", got, c.want)
			}
		})
	}
}

// TestSignatureCrafted covers the magics no tool here writes to a plain
// file (LVM needs a device, btrfs-progs may be absent) and blank input.
func TestSignatureCrafted(t *testing.T) {
	at := func(off int, s string) []byte {
		b := make([]byte, 128<<10)
		copy(b[off:], s)
		return b
	}
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{at(512, "LABELONE"), "LVM"},
		{at(1024, "LABELONE"), "LVM"},
		{at(0x10040, "_BHRfS_M"), "btrfs"},
		{at(0, "LUKS\xba\xbe"), "LUKS"},
		{make([]byte, 128<<10), ""},
		{[]byte("short text\n"), ""},
		{nil, ""},
	} {
		if got := Signature(strings.NewReader(string(c.b))); (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("Signature(%q…) = %q, want %q", c.b[:min(len(c.b), 16)], got, c.want)
		}
	}
}
