package guest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// lvmCmd runs an lvm2 tool without device-mapper (it is not available here;
// --driverloaded n still writes real metadata).
func lvmCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	needTool(t, name)
	cmd := exec.Command(name, append(lvmFlags(), args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// lvmFlags: no device-mapper, and no metadata backups written to /etc/lvm.
func lvmFlags() []string {
	return []string{"--driverloaded", "n", "--config", "backup { backup = 0 archive = 0 }"}
}

// losetup attaches img to a free loop device, detached at cleanup.
func losetup(t *testing.T, img string) string {
	t.Helper()
	dev := strings.TrimSpace(run(t, "losetup", "-f", "--show", img))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// lvSegments returns an LV's segments as (first LE, PE start, extent count)
// from lvs, independent of our parser.
func lvSegments(t *testing.T, vg, lv string) [][3]int64 {
	out := lvmCmd(t, "lvs", "--segments", "--noheadings", "-o", "seg_start_pe,seg_pe_ranges", vg+"/"+lv)
	var segs [][3]int64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		le, err := strconv.ParseInt(f[0], 10, 64)
		must(t, err)
		pe := rangeOf(t, f[1])
		segs = append(segs, [3]int64{le, pe[0], pe[1] - pe[0] + 1})
	}
	return segs
}

// rangeOf parses "/dev/loop0:5-6" into {5, 6}.
func rangeOf(t *testing.T, s string) [2]int64 {
	s = s[strings.LastIndex(s, ":")+1:]
	a, b, _ := strings.Cut(s, "-")
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad range %q", s)
	}
	return [2]int64{x, y}
}

func lvmNumber(t *testing.T, tool, field, what string) int64 {
	out := strings.TrimSpace(lvmCmd(t, tool, "--noheadings", "--units", "b", "--nosuffix", "-o", field, what))
	n, err := strconv.ParseInt(strings.Fields(out)[0], 10, 64)
	if err != nil {
		t.Fatalf("%s -o %s: %q", tool, field, out)
	}
	return n
}

// writeLV copies img into an LV of the PV image pv through its segments.
func writeLV(t *testing.T, pv, img string, peStart, extBytes int64, segs [][3]int64) {
	data, err := os.ReadFile(img)
	must(t, err)
	f, err := os.OpenFile(pv, os.O_WRONLY, 0)
	must(t, err)
	defer f.Close()
	for _, s := range segs {
		from := s[0] * extBytes
		if from >= int64(len(data)) {
			continue
		}
		to := min(from+s[2]*extBytes, int64(len(data)))
		_, err := f.WriteAt(data[from:to], peStart+s[1]*extBytes)
		must(t, err)
	}
}

// TestLVM builds a PV with lvm2 tools holding VG "vgt" with LV "root" (ext4,
// two segments after lvextend) and LV "data" (FAT16), then finds them both on
// the whole PV image and inside partition 2 of an MBR disk.
func TestLVM(t *testing.T) {
	fsImages(t)
	t.Setenv("LVM_SUPPRESS_FD_WARNINGS", "1")
	tmp := t.TempDir()
	pv := filepath.Join(tmp, "pv.img")
	sparseFile(t, pv, 100<<20)
	dev := losetup(t, pv)
	lvmCmd(t, "pvcreate", "-ff", "-y", dev)
	lvmCmd(t, "vgcreate", "-s", "4M", "vgt", dev)
	t.Cleanup(func() { exec.Command("vgremove", append(lvmFlags(), "-ff", "-y", "vgt")...).Run() })
	lvmCmd(t, "lvcreate", "-Zn", "-y", "-n", "root", "-L", "20M", "vgt")
	lvmCmd(t, "lvcreate", "-Zn", "-y", "-n", "data", "-L", "20M", "vgt")
	lvmCmd(t, "lvextend", "-L", "36M", "vgt/root")
	peStart := lvmNumber(t, "pvs", "pe_start", dev)
	extBytes := lvmNumber(t, "vgs", "vg_extent_size", "vgt")
	rootSegs := lvSegments(t, "vgt", "root")
	if len(rootSegs) != 2 {
		t.Fatalf("root has segments %v, want 2", rootSegs)
	}
	writeLV(t, pv, fixtures.ext4, peStart, extBytes, rootSegs)
	dataSegs := lvSegments(t, "vgt", "data")
	t.Logf("root %v data %v pe_start %d extent %d", rootSegs, dataSegs, peStart, extBytes)
	writeLV(t, pv, fixtures.fat16, peStart, extBytes, dataSegs)

	lvWants := []want{extWant("vgt-root"), fatWant("vgt-data", fixtures.fat16)}
	t.Run("whole-disk", func(t *testing.T) {
		l := checkLayout(t, pv, TableNone, append(lvWants, want{name: WholeDiskName, typ: TypeLVM2PV}))
		checkLVPaths(t, l)
	})
	t.Run("in-partition", func(t *testing.T) {
		disk := filepath.Join(tmp, "disk.img")
		sparseFile(t, disk, 160<<20)
		runStdin(t, "label: dos\nsize=33MiB, type=83\nsize=100MiB, type=8e\n", "sfdisk", "-q", disk)
		parts := sfdiskParts(t, disk)
		copyInto(t, disk, fixtures.ext4, parts[1][0])
		copyInto(t, disk, pv, parts[2][0])
		l := checkLayout(t, disk, TableMBR, append(lvWants, extWant("1"), want{name: "2", typ: TypeLVM2PV}))
		checkLVPaths(t, l)
	})
}

// checkLVPaths checks LV paths and sizes, and that the root LV reads back
// the ext4 image byte for byte across its two segments.
func checkLVPaths(t *testing.T, l *Layout) {
	for _, v := range l.Volumes {
		if v.Name == "vgt-root" {
			want, err := os.ReadFile(fixtures.ext4)
			must(t, err)
			got := make([]byte, len(want))
			if n, err := v.Reader.ReadAt(got, 0); n != len(got) || !bytes.Equal(got, want) {
				t.Errorf("LV root: read %d bytes (%v), equal %v", n, err, bytes.Equal(got, want))
			}
		}
		switch v.Name {
		case "vgt-root", "vgt-data":
			lv := strings.TrimPrefix(v.Name, "vgt-")
			if v.Path != "lvm/vgt/"+lv+".img" || v.Offset != -1 || v.Size != map[string]int64{"root": 36 << 20, "data": 20 << 20}[lv] {
				t.Errorf("LV %s: path %s offset %d size %d", v.Name, v.Path, v.Offset, v.Size)
			}
		}
	}
}
