package s3_test

import (
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
	"github.com/rewind-backup/rewind/blockstore/targettest"
)

// TestConformance runs the shard target suite against a real MinIO: plain,
// behind the read cache, and at the bucket root (no prefix).
func TestConformance(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "conf", false)
	t.Run("plain", func(t *testing.T) {
		targettest.Run(t, func(t *testing.T) blockstore.Target { return newTarget(t, srv, "conf") })
	})
	t.Run("cached", func(t *testing.T) {
		targettest.Run(t, func(t *testing.T) blockstore.Target {
			c, err := s3.NewCache(newTarget(t, srv, "conf"), t.TempDir(), 8<<20)
			if err != nil {
				t.Fatal(err)
			}
			return c
		})
	})
	n := 0
	t.Run("root", func(t *testing.T) {
		targettest.Run(t, func(t *testing.T) blockstore.Target {
			n++
			b := "root" + string(rune('a'+n))
			srv.MakeBucket(t, b, false)
			return openSpec(t, srv.Spec(b, ""))
		})
	})
}
