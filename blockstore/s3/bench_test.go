package s3_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
)

// benchChunks is 64 MiB of 1 MiB chunks, half random and half
// compressible text, for throughput of a 4+2 store.
func benchChunks() [][]byte {
	r := rand.New(rand.NewPCG(9, 9))
	out := make([][]byte, 64)
	for i := range out {
		c := make([]byte, 1<<20)
		for j := range c {
			if i%2 == 0 {
				c[j] = byte(r.Uint32())
			} else {
				c[j] = "rewind backs up disks and shares "[(j+i)%33] ^ byte(r.IntN(2))
			}
		}
		out[i] = c
	}
	return out
}

func benchStore(b *testing.B, targets []blockstore.Target) {
	ctx := context.Background()
	st, err := blockstore.Create(ctx, filepath.Join(b.TempDir(), "store"), []byte("pw"), targets,
		blockstore.Options{Layout: blockstore.Layout{DataShards: 4, ParityShards: 2}})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	chunks := benchChunks()
	var ids []blockstore.ID
	b.Run("write", func(b *testing.B) {
		b.SetBytes(64 << 20)
		for i := 0; i < b.N; i++ {
			w := st.NewWriter()
			for _, c := range chunks {
				c[0] = byte(i) // new content every round: no dedup
				c[1] = byte(i >> 8)
				r, err := w.Put(ctx, c)
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, r.ID)
			}
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			w.Close()
		}
	})
	b.Run("read", func(b *testing.B) {
		b.SetBytes(64 << 20)
		for i := 0; i < b.N; i++ {
			for _, id := range ids[len(ids)-64:] {
				if _, err := st.Get(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkStoreDir is the local-disk baseline: six directories.
func BenchmarkStoreDir(b *testing.B) {
	var ts []blockstore.Target
	for i := 0; i < 6; i++ {
		d, err := blockstore.NewDirTarget(filepath.Join(b.TempDir(), fmt.Sprint(i)))
		if err != nil {
			b.Fatal(err)
		}
		ts = append(ts, d)
	}
	benchStore(b, ts)
}

// BenchmarkStoreMinIO is the same store on three MinIO servers on loopback,
// two shards each (and with a read cache, whose second read is local).
func BenchmarkStoreMinIO(b *testing.B) {
	var srvs []*miniotest.Server
	for i := 0; i < 3; i++ {
		srv := miniotest.Start(b)
		srv.MakeBucket(b, "bench", false)
		srvs = append(srvs, srv)
	}
	for _, cached := range []bool{false, true} {
		b.Run(fmt.Sprintf("cache=%v", cached), func(b *testing.B) {
			var ts []blockstore.Target
			for i := 0; i < 6; i++ {
				var opts []string
				if cached {
					opts = append(opts, "cache="+b.TempDir(), "cache-size=1G")
				}
				tg, err := s3.Open(srvs[i/2].Spec("bench", fmt.Sprintf("c%v/s%d", cached, i), opts...))
				if err != nil {
					b.Fatal(err)
				}
				ts = append(ts, tg)
			}
			benchStore(b, ts)
		})
	}
}
