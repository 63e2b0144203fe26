package guest

import (
	"testing"
)

// BenchmarkReadFile reads the 5 MiB file of each fixture volume in 1 MiB
// ReadAt calls (page-cached image: measures the reader, not the disk).
func BenchmarkReadFile(b *testing.B) {
	fsImages(b)
	for _, c := range []struct{ typ, img string }{
		{TypeExt4, fixtures.ext4}, {TypeXFS, fixtures.xfs}, {TypeVFAT, fixtures.fat32}, {TypeNTFS, fixtures.ntfs},
	} {
		b.Run(c.typ, func(b *testing.B) {
			r, size := openImage(b, c.img)
			fsys, err := OpenFS(testCtx(b), r, size, c.typ)
			must(b, err)
			f, err := fsys.Open("big.bin")
			must(b, err)
			buf := make([]byte, 1<<20)
			b.SetBytes(f.Size())
			for i := 0; i < b.N; i++ {
				for off := int64(0); off < f.Size(); off += int64(len(buf)) {
					f.ReadAt(buf, off)
				}
			}
		})
	}
}

// BenchmarkReadDir lists the 300-entry directory (cache cleared each time).
func BenchmarkReadDir(b *testing.B) {
	fsImages(b)
	for _, c := range []struct{ typ, img string }{
		{TypeExt4, fixtures.ext4}, {TypeXFS, fixtures.xfs}, {TypeVFAT, fixtures.fat32}, {TypeNTFS, fixtures.ntfs},
	} {
		b.Run(c.typ, func(b *testing.B) {
			r, size := openImage(b, c.img)
			for i := 0; i < b.N; i++ {
				fsys, err := OpenFS(testCtx(b), r, size, c.typ)
				must(b, err)
				if _, err := fsys.ReadDir("many"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
