package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// treeSet is the generated file tree (state A) in Dir, the new versions of
// 1% of its files under Changes (state B = Dir with those swapped in), and
// Orig where the A versions wait while B is in place.
type treeSet struct {
	Dir, Changes, Orig string
	Files              int
	Bytes              int64
	Changed            []string // paths relative to Dir
	Probe              string   // an unchanged file for the first-byte test
	SumB               [sha256.Size]byte
	inB                bool
}

type treeFile struct {
	rel  string
	size int64
	text bool
}

// treeSizes: half the bytes in a few large files (one per 3,000, sizes
// 0.5–1.5× their mean), half log-uniform over the rest, scaled to total.
func treeSizes(n int, total int64, r *rand.Rand) []int64 {
	sizes := make([]int64, n)
	nLarge := max(1, n/3000)
	if n == 1 {
		nLarge = 0
	}
	largeBytes := total / 2
	if nLarge == 0 {
		largeBytes = 0
	}
	var sum float64
	small := make([]float64, n-nLarge)
	mean := float64(total-largeBytes) / float64(max(1, len(small)))
	lo, hi := math.Log(256), math.Log(max(512, 64*mean))
	for i := range small {
		small[i] = math.Exp(lo + r.Float64()*(hi-lo))
		sum += small[i]
	}
	for i, v := range small {
		sizes[i] = int64(v * float64(total-largeBytes) / sum)
	}
	for i := 0; i < nLarge; i++ {
		sizes[len(small)+i] = int64(float64(largeBytes) / float64(nLarge) * (0.5 + r.Float64()))
	}
	r.Shuffle(n, func(i, j int) { sizes[i], sizes[j] = sizes[j], sizes[i] })
	return sizes
}

func treeLayout(n int, total int64, seed uint64) []treeFile {
	r := rand.New(rand.NewPCG(seed, 3))
	sizes := treeSizes(n, total, r)
	files := make([]treeFile, n)
	for i := range files {
		dir := i / 100
		files[i] = treeFile{
			rel:  fmt.Sprintf("t%03d/s%02d/f%06d.dat", dir/50, dir%50, i),
			size: sizes[i],
			text: r.Float64() < 0.6,
		}
	}
	return files
}

// genTree writes the tree into base/tree and the changed versions into
// base/tree-changes, then records the digest of state B.
func genTree(ctx context.Context, base string, n int, total int64, seed uint64, usr io.Reader) (*treeSet, error) {
	t := &treeSet{Dir: filepath.Join(base, "tree"), Changes: filepath.Join(base, "tree-changes"), Orig: filepath.Join(base, "tree-orig"), Files: n}
	files := treeLayout(n, total, seed)
	buf := make([]byte, 1<<20)
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src := usr
		if !f.text {
			src = &keyedStream{seed: seed, a: i}
		}
		if err := writeFileFrom(filepath.Join(t.Dir, f.rel), src, f.size, buf); err != nil {
			return nil, err
		}
		t.Bytes += f.size
	}
	r := rand.New(rand.NewPCG(seed, 4))
	for _, i := range r.Perm(n)[:max(1, n/100)] {
		f := files[i]
		t.Changed = append(t.Changed, f.rel)
		if err := writeFileFrom(filepath.Join(t.Changes, f.rel), &keyedStream{seed: seed, a: i, b: 1}, f.size, buf); err != nil {
			return nil, err
		}
	}
	sort.Strings(t.Changed)
	t.Probe = pickProbe(files, t.Changed)
	return t, t.digestB(ctx)
}

// pickProbe returns the first unchanged file of 64 KiB–1 MiB (or any file).
func pickProbe(files []treeFile, changed []string) string {
	skip := map[string]bool{}
	for _, c := range changed {
		skip[c] = true
	}
	for _, f := range files[len(files)/2:] {
		if !skip[f.rel] && f.size >= 64<<10 && f.size <= 1<<20 {
			return f.rel
		}
	}
	return files[len(files)-1].rel
}

func (t *treeSet) digestB(ctx context.Context) error {
	if err := t.toB(); err != nil {
		return err
	}
	sum, err := treeDigest(ctx, t.Dir)
	t.SumB = sum
	return errors2(err, t.toA())
}

func errors2(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// toB swaps the changed files in (new inode, mtime now); toA swaps them back.
func (t *treeSet) toB() error {
	if t.inB {
		return nil
	}
	now := time.Now()
	for _, rel := range t.Changed {
		if err := swap(filepath.Join(t.Dir, rel), filepath.Join(t.Orig, rel), filepath.Join(t.Changes, rel)); err != nil {
			return err
		}
		if err := os.Chtimes(filepath.Join(t.Dir, rel), now, now); err != nil {
			return err
		}
	}
	t.inB = true
	return nil
}

func (t *treeSet) toA() error {
	if !t.inB {
		return nil
	}
	for _, rel := range t.Changed {
		if err := swap(filepath.Join(t.Dir, rel), filepath.Join(t.Changes, rel), filepath.Join(t.Orig, rel)); err != nil {
			return err
		}
	}
	t.inB = false
	return nil
}

// swap moves live aside to parked and moves incoming to live.
func swap(live, parked, incoming string) error {
	if err := os.MkdirAll(filepath.Dir(parked), 0o755); err != nil {
		return err
	}
	if err := os.Rename(live, parked); err != nil {
		return err
	}
	return os.Rename(incoming, live)
}

func writeFileFrom(path string, src io.Reader, size int64, buf []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(f, io.LimitReader(src, size), buf)
	return errors2(err, f.Close())
}

// keyedStream is an endless pseudo-random stream for (seed, a, b).
type keyedStream struct {
	seed uint64
	a, b int
	c    *rand.ChaCha8
}

func (k *keyedStream) Read(p []byte) (int, error) {
	if k.c == nil {
		var key [32]byte
		copy(key[:], fmt.Sprintf("tree/%016x/%d/%d", k.seed, k.a, k.b))
		k.c = rand.NewChaCha8(key)
	}
	return k.c.Read(p)
}

// treeDigest hashes every regular file's relative path, size and content, in
// lexical order.
func treeDigest(ctx context.Context, root string) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	h := sha256.New()
	buf := make([]byte, 1<<20)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fh := sha256.New()
		n, err := io.CopyBuffer(fh, f, buf)
		if err != nil {
			return err
		}
		h.Write([]byte(rel + "\x00"))
		h.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
		h.Write(fh.Sum(nil))
		return nil
	})
	h.Sum(out[:0])
	return out, err
}
