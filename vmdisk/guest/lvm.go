package guest

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
)

// LVM2 on-disk layout (lib/format_text/layout.h in lvm2):
//
// Label, in one of the first 4 sectors:
//
//	0 "LABELONE"  8 sector number  16 CRC  20 offset of pv_header  24 "LVM2 001"
//
// pv_header: 32-byte PV UUID, 8-byte device size, then a zero-terminated list
// of data areas {offset, size} and a zero-terminated list of metadata areas.
// mda_header at each metadata area's offset:
//
//	0 CRC  4 " LVM2 x[5A%r0N*>"  20 version  24 start  32 size  40 raw_locn[]
//
// raw_locn: offset (from start), size, checksum, flags; the text is a
// circular buffer after the 512-byte header.
const (
	lvmLabelMagic = "LABELONE"
	lvmLabelType  = "LVM2 001"
	lvmMDAMagic   = " LVM2 x[5A%r0N*>"
	lvmMaxText    = 4 << 20
	lvmMaxSegs    = 1 << 16
)

func hasLVMLabel(head []byte) bool {
	_, ok := findLabel(head)
	return ok
}

func findLabel(head []byte) (int, bool) {
	for s := 0; s < 4 && (s+1)*512 <= len(head); s++ {
		b := head[s*512:]
		if string(b[:8]) == lvmLabelMagic && string(b[24:32]) == lvmLabelType {
			return s * 512, true
		}
	}
	return 0, false
}

// pvInfo is what one PV's label and metadata say.
type pvInfo struct {
	uuid  string // 32 chars, no dashes
	r     io.ReaderAt
	size  int64
	vg    *lvmSection // the VG section of the newest metadata copy
	vname string
	seqno int64
}

// readPV parses the label and metadata text of a physical volume.
func readPV(r io.ReaderAt, size int64) (*pvInfo, error) {
	head, err := readAt(r, 2048, 0)
	if err != nil {
		return nil, err
	}
	off, ok := findLabel(head)
	if !ok {
		return nil, corruptf("no LVM2 label")
	}
	lbl := head[off : off+512]
	ph := int(binary.LittleEndian.Uint32(lbl[20:]))
	if ph < 32 || ph+40 > 512 {
		return nil, corruptf("LVM2 label: pv_header offset %d", ph)
	}
	pv := &pvInfo{uuid: string(lbl[ph : ph+32]), r: r, size: size}
	// skip the data-area list, then read metadata areas
	p := ph + 40
	lists := [2][][2]uint64{}
	for l := 0; l < 2; l++ {
		for {
			if p+16 > 512 {
				return nil, corruptf("LVM2 label: area list runs off the sector")
			}
			o, s := binary.LittleEndian.Uint64(lbl[p:]), binary.LittleEndian.Uint64(lbl[p+8:])
			p += 16
			if o == 0 {
				break
			}
			lists[l] = append(lists[l], [2]uint64{o, s})
		}
	}
	var lastErr error = corruptf("LVM2 PV %s has no metadata area", pv.uuid)
	for _, mda := range lists[1] {
		text, err := readMDA(r, int64(mda[0]))
		if err != nil {
			lastErr = err
			continue
		}
		if err := pv.takeText(text); err != nil {
			lastErr = err
			continue
		}
		lastErr = nil
	}
	if pv.vg == nil {
		return pv, lastErr
	}
	return pv, nil
}

// readMDA returns the newest metadata text in the area at off.
func readMDA(r io.ReaderAt, off int64) (string, error) {
	h, err := readAt(r, 512, off)
	if err != nil {
		return "", fmt.Errorf("LVM2 metadata area at %d: %w", off, err)
	}
	if string(h[4:20]) != lvmMDAMagic {
		return "", corruptf("LVM2 metadata area at %d: bad magic", off)
	}
	start := int64(binary.LittleEndian.Uint64(h[24:]))
	msize := int64(binary.LittleEndian.Uint64(h[32:]))
	loff := int64(binary.LittleEndian.Uint64(h[40:]))
	lsize := int64(binary.LittleEndian.Uint64(h[48:]))
	if msize <= 512 || msize > 1<<40 || loff < 512 || loff >= msize || lsize <= 0 || lsize > lvmMaxText || lsize > msize-512 {
		return "", corruptf("LVM2 metadata area at %d: text at %d+%d in area of %d", off, loff, lsize, msize)
	}
	first := min(lsize, msize-loff)
	text, err := readAt(r, int(first), start+loff)
	if err != nil {
		return "", err
	}
	if rest := lsize - first; rest > 0 { // wrapped around the circular buffer
		more, err := readAt(r, int(rest), start+512)
		if err != nil {
			return "", err
		}
		text = append(text, more...)
	}
	return strings.TrimRight(string(text), "\x00"), nil
}

func (pv *pvInfo) takeText(text string) error {
	root, err := parseLVMText(text)
	if err != nil {
		return err
	}
	for _, name := range root.order {
		vg := root.subs[name]
		if _, ok := vg.num("extent_size"); !ok {
			continue
		}
		seq, _ := vg.num("seqno")
		if pv.vg == nil || seq > pv.seqno {
			pv.vg, pv.vname, pv.seqno = vg, name, seq
		}
		return nil
	}
	return corruptf("LVM metadata has no volume group")
}

// lvSeg maps logical extents [le, le+n) to a PV at byte offset pvOff.
type lvSeg struct {
	start, length int64 // bytes within the LV
	pv            io.ReaderAt
	pvOff         int64
}

// lvReader reads a linear LV through its segments.
type lvReader struct {
	segs []lvSeg
	size int64
}

func (l *lvReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= l.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < l.size {
		i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].start+l.segs[i].length > off })
		if i == len(l.segs) || l.segs[i].start > off {
			return n, corruptf("LV has no segment at %d", off)
		}
		s := l.segs[i]
		chunk := p[n:min(len(p), n+int(min(s.start+s.length-off, int64(len(p)-n))))]
		m, err := s.pv.ReadAt(chunk, s.pvOff+off-s.start)
		n += m
		off += int64(m)
		if err != nil && !(err == io.EOF && m == len(chunk)) {
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// lvmVolumes assembles the logical volumes of every volume group whose PVs
// were found. Non-linear LVs are listed with a Reason and no reader.
func lvmVolumes(pvs []*pvInfo) ([]Volume, []error) {
	byVG := map[string][]*pvInfo{}
	var names []string
	for _, pv := range pvs {
		if pv.vg == nil {
			continue
		}
		if byVG[pv.vname] == nil {
			names = append(names, pv.vname)
		}
		byVG[pv.vname] = append(byVG[pv.vname], pv)
	}
	sort.Strings(names)
	var vols []Volume
	var errs []error
	for _, name := range names {
		v, err := vgVolumes(name, byVG[name])
		vols = append(vols, v...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return vols, errs
}

func vgVolumes(name string, pvs []*pvInfo) ([]Volume, error) {
	newest := pvs[0]
	for _, pv := range pvs {
		if pv.seqno > newest.seqno {
			newest = pv
		}
	}
	vg := newest.vg
	extSize, _ := vg.num("extent_size")
	if extSize <= 0 || extSize > 1<<32 {
		return nil, corruptf("VG %s: extent_size %d", name, extSize)
	}
	extBytes := extSize * 512
	byUUID := map[string]*pvInfo{}
	for _, pv := range pvs {
		byUUID[pv.uuid] = pv
	}
	type pvRef struct {
		pv      *pvInfo
		peStart int64
	}
	refs := map[string]pvRef{}
	if pvsec := vg.subs["physical_volumes"]; pvsec != nil {
		for _, key := range pvsec.order {
			s := pvsec.subs[key]
			peStart, _ := s.num("pe_start")
			refs[key] = pvRef{pv: byUUID[strings.ReplaceAll(s.str("id"), "-", "")], peStart: peStart * 512}
		}
	}
	lvsec := vg.subs["logical_volumes"]
	if lvsec == nil {
		return nil, nil
	}
	var vols []Volume
	for _, lvName := range lvsec.order {
		lv := lvsec.subs[lvName]
		if !hasFlag(lv.list("status"), "VISIBLE") {
			continue
		}
		v := Volume{Name: name + "-" + lvName, Path: "lvm/" + name + "/" + lvName + ".img", Offset: -1,
			PartType: "lvm2", Label: lvName}
		r, size, err := lvMap(lv, extBytes, func(pvName string) (io.ReaderAt, int64, error) {
			ref, ok := refs[pvName]
			if !ok {
				return nil, 0, corruptf("unknown PV %q", pvName)
			}
			if ref.pv == nil {
				return nil, 0, fmt.Errorf("PV %q of VG %s is not on this disk", pvName, name)
			}
			return ref.pv.r, ref.peStart, nil
		})
		if err != nil {
			v.Type, v.Err = TypeUnknown, fmt.Errorf("LV %s/%s: %w", name, lvName, err)
			v.Reason = fmt.Sprintf("The logical volume %s/%s cannot be read: %v.", name, lvName, err)
		} else {
			v.Reader, v.Size = r, size
		}
		vols = append(vols, v)
	}
	return vols, nil
}

func hasFlag(l []any, f string) bool {
	for _, v := range l {
		if s, ok := v.(string); ok && s == f {
			return true
		}
	}
	return false
}

// lvMap builds the reader of a linear ("striped" with one stripe) LV.
func lvMap(lv *lvmSection, extBytes int64, pvOf func(string) (io.ReaderAt, int64, error)) (io.ReaderAt, int64, error) {
	var segs []lvSeg
	for _, key := range lv.order {
		s := lv.subs[key]
		if !strings.HasPrefix(key, "segment") {
			continue
		}
		if len(segs) >= lvmMaxSegs {
			return nil, 0, corruptf("too many segments")
		}
		typ := s.str("type")
		stripes := s.list("stripes")
		cnt, _ := s.num("stripe_count")
		if typ != "striped" || cnt != 1 || len(stripes) != 2 {
			return nil, 0, fmt.Errorf("segment type %q with %d stripes is not supported (only linear LVs are)", typ, cnt)
		}
		pvName, _ := stripes[0].(string)
		pe, _ := stripes[1].(int64)
		le, _ := s.num("start_extent")
		n, _ := s.num("extent_count")
		if le < 0 || n <= 0 || pe < 0 || le > 1<<32 || n > 1<<32 || pe > 1<<32 {
			return nil, 0, corruptf("segment %s: extents %d+%d at PE %d", key, le, n, pe)
		}
		pv, peStart, err := pvOf(pvName)
		if err != nil {
			return nil, 0, err
		}
		segs = append(segs, lvSeg{start: le * extBytes, length: n * extBytes, pv: pv, pvOff: peStart + pe*extBytes})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].start < segs[j].start })
	var end int64
	for _, s := range segs {
		if s.start != end {
			return nil, 0, corruptf("segments do not cover the LV contiguously at %d", end)
		}
		end += s.length
	}
	if end == 0 {
		return nil, 0, corruptf("LV has no segments")
	}
	return &lvReader{segs: segs, size: end}, end, nil
}
