package s3_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
)

// TestAttachFromS3: the buckets alone hold a store. The local directory is
// deleted; Attach, Unlock and RebuildIndex from the S3 targets bring every
// chunk back, readable with one server killed. (RebuildIndex itself still
// needs every target to answer its listing.)
func TestAttachFromS3(t *testing.T) {
	ctx := context.Background()
	var srvs []*miniotest.Server
	var ts []blockstore.Target
	for i := 0; i < 3; i++ {
		srv := miniotest.Start(t)
		srv.MakeBucket(t, "attach", false)
		srvs = append(srvs, srv)
	}
	for i := 0; i < 6; i++ {
		ts = append(ts, openSpec(t, srvs[i/2].Spec("attach", fmt.Sprintf("s%d", i))))
	}
	dir := filepath.Join(t.TempDir(), "store")
	st, err := blockstore.Create(ctx, dir, []byte("pw"), ts, blockstore.Options{SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	x := &s3Store{st: st}
	chunks := randomChunks(11, 16, 200<<10)
	ids, err := x.write(t, chunks)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.RemoveAll(dir)

	st, err = blockstore.Attach(ctx, dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Unlock([]byte("pw")); err != nil {
		t.Fatal(err)
	}
	if err := st.RebuildIndex(ctx); err != nil {
		t.Fatal(err)
	}
	x.st = st
	srvs[2].Kill() // shards 4 and 5
	x.mustRead(t, ids, chunks)
}
