package guest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLVMTwoPVs: a VG over two PVs in partitions 1 and 2 of one disk with an
// LV spanning both; with partition 2 missing the LV gets a Reason.
func TestLVMTwoPVs(t *testing.T) {
	fsImages(t)
	t.Setenv("LVM_SUPPRESS_FD_WARNINGS", "1")
	tmp := t.TempDir()
	pvs := []string{filepath.Join(tmp, "pv1.img"), filepath.Join(tmp, "pv2.img")}
	devs := map[string]string{} // loop device → image
	for _, p := range pvs {
		sparseFile(t, p, 40<<20)
		devs[losetup(t, p)] = p
	}
	var devList []string
	for _, p := range pvs {
		for d, q := range devs {
			if q == p {
				devList = append(devList, d)
			}
		}
	}
	lvmCmd(t, "pvcreate", "-ff", "-y", devList[0], devList[1])
	lvmCmd(t, "vgcreate", "-s", "4M", "vgm", devList[0], devList[1])
	t.Cleanup(func() { lvmRemove("vgm") })
	lvmCmd(t, "lvcreate", "-Zn", "-y", "-n", "span", "-L", "24M", "vgm", devList[0])
	lvmCmd(t, "lvextend", "-L", "48M", "vgm/span", devList[1])
	extBytes := lvmNumber(t, "vgs", "vg_extent_size", "vgm")
	img := filepath.Join(tmp, "span.img")
	mkExt(t, img, fixtures.src, "ext4", 48<<20)
	data, err := os.ReadFile(img)
	must(t, err)
	out := lvmCmd(t, "lvs", "--segments", "--noheadings", "-o", "seg_start_pe,seg_pe_ranges", "vgm/span")
	segs := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		le, err := strconv.ParseInt(f[0], 10, 64)
		must(t, err)
		dev := f[1][:strings.LastIndex(f[1], ":")]
		pe := rangeOf(t, f[1])
		peStart := lvmNumber(t, "pvs", "pe_start", dev)
		from, to := le*extBytes, min((le+pe[1]-pe[0]+1)*extBytes, int64(len(data)))
		fh, err := os.OpenFile(devs[dev], os.O_WRONLY, 0)
		must(t, err)
		_, err = fh.WriteAt(data[from:to], peStart+pe[0]*extBytes)
		must(t, err)
		fh.Close()
		segs++
	}
	if segs != 2 {
		t.Fatalf("LV has %d segments, want one per PV", segs)
	}
	disk := filepath.Join(tmp, "disk.img")
	sparseFile(t, disk, 100<<20)
	runStdin(t, "label: dos\nsize=40MiB, type=8e\nsize=40MiB, type=8e\n", "sfdisk", "-q", disk)
	parts := sfdiskParts(t, disk)
	copyInto(t, disk, pvs[0], parts[1][0])
	copyInto(t, disk, pvs[1], parts[2][0])
	w := extWant("vgm-span")
	w.img = img
	checkLayout(t, disk, TableMBR, []want{w, {name: "1", typ: TypeLVM2PV}, {name: "2", typ: TypeLVM2PV}})

	// only the first PV: the LV is listed with a reason
	l := checkLayout(t, pvs[0], TableNone, []want{{name: "vgm-span", typ: TypeUnknown}})
	for _, v := range l.Volumes {
		if v.Name == "vgm-span" && !strings.Contains(v.Reason, "not on this disk") {
			t.Errorf("reason %q", v.Reason)
		}
	}
}

func lvmRemove(vg string) {
	cmd := append(lvmFlags(), "-ff", "-y", vg)
	_ = runQuiet("vgremove", cmd...)
}
