package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
)

const region = 4 << 20 // the image is built and changed in 4 MiB regions

type regionKind int

const (
	kindZero regionKind = iota
	kindText            // real files from /usr: compressible
	kindRandom
)

// diskSet is the generated disk image A, its changed copy B (same size), and
// one file per changed region holding its new bytes (for qemu-io write -s).
type diskSet struct {
	A, B    string
	Size    int64
	Changed []int             // indices of the regions that differ in B, ascending
	Files   map[int]string    // region index → file with its new 4 MiB
	SumB    [sha256.Size]byte // SHA-256 of all of B
}

// regionKinds deals 40% zero, 30% text, 30% random regions, shuffled by seed.
func regionKinds(n int, seed uint64) []regionKind {
	kinds := make([]regionKind, n)
	nz, nt := n*4/10, n*3/10
	for i := range kinds {
		switch {
		case i < nz:
			kinds[i] = kindZero
		case i < nz+nt:
			kinds[i] = kindText
		default:
			kinds[i] = kindRandom
		}
	}
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(n, func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	return kinds
}

// pickChanged chooses max(1, n/100) distinct regions.
func pickChanged(n int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 2))
	k := max(1, n/100)
	idx := r.Perm(n)[:k]
	sort.Ints(idx)
	return idx
}

// randomFill fills buf with a keyed stream for (seed, a, b).
func randomFill(buf []byte, seed uint64, a, b int) {
	var key [32]byte
	copy(key[:], fmt.Sprintf("%016x/%d/%d", seed, a, b))
	rand.NewChaCha8(key).Read(buf)
}

// genDisk writes A, B and the changed-region files into dir.
func genDisk(ctx context.Context, dir string, size int64, seed uint64, usr io.Reader) (*diskSet, error) {
	n := int(max(1, size/region))
	d := &diskSet{A: filepath.Join(dir, "disk-a.img"), B: filepath.Join(dir, "disk-b.img"), Size: int64(n) * region, Files: map[int]string{}}
	d.Changed = pickChanged(n, seed)
	if err := os.MkdirAll(filepath.Join(dir, "regions"), 0o755); err != nil {
		return nil, err
	}
	fa, err := createSized(d.A, d.Size)
	if err != nil {
		return nil, err
	}
	defer fa.Close()
	fb, err := createSized(d.B, d.Size)
	if err != nil {
		return nil, err
	}
	defer fb.Close()
	if err := d.fill(ctx, fa, fb, regionKinds(n, seed), seed, usr); err != nil {
		return nil, err
	}
	for _, f := range []*os.File{fa, fb} {
		if err := f.Sync(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func createSized(path string, size int64) (*os.File, error) {
	f, err := os.Create(path)
	if err == nil {
		err = f.Truncate(size)
	}
	return f, err
}

// fill writes every region of A and B, leaving zero regions as holes, and
// hashes B.
func (d *diskSet) fill(ctx context.Context, fa, fb *os.File, kinds []regionKind, seed uint64, usr io.Reader) error {
	buf, nbuf, zero := make([]byte, region), make([]byte, region), make([]byte, region)
	changed := map[int]bool{}
	for _, i := range d.Changed {
		changed[i] = true
	}
	h := sha256.New()
	for i, k := range kinds {
		if err := ctx.Err(); err != nil {
			return err
		}
		off := int64(i) * region
		cur := zero
		switch k {
		case kindText:
			if _, err := io.ReadFull(usr, buf); err != nil {
				return fmt.Errorf("read /usr files: %w", err)
			}
			cur = buf
		case kindRandom:
			randomFill(buf, seed, i, 0)
			cur = buf
		}
		if k != kindZero {
			if _, err := fa.WriteAt(cur, off); err != nil {
				return err
			}
		}
		if changed[i] {
			randomFill(nbuf, seed, i, 1)
			cur = nbuf
			d.Files[i] = filepath.Join(filepath.Dir(fa.Name()), "regions", fmt.Sprintf("%06d.bin", i))
			if err := os.WriteFile(d.Files[i], nbuf, 0o644); err != nil {
				return err
			}
		}
		if &cur[0] != &zero[0] {
			if _, err := fb.WriteAt(cur, off); err != nil {
				return err
			}
		}
		h.Write(cur)
	}
	h.Sum(d.SumB[:0])
	return nil
}

// fileSum is the SHA-256 of a file's content.
func fileSum(path string) ([sha256.Size]byte, error) {
	var s [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return s, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return s, err
	}
	h.Sum(s[:0])
	return s, nil
}
