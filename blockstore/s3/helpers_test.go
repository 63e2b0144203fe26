package s3_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
)

var prefixSeq atomic.Int64

// freshPrefix names a prefix no other test uses, so one bucket serves many.
func freshPrefix(t *testing.T) string {
	return fmt.Sprintf("t%d", prefixSeq.Add(1))
}

func openSpec(t *testing.T, spec string) blockstore.Target {
	t.Helper()
	tg, err := s3.Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func newTarget(t *testing.T, srv *miniotest.Server, bucket string, opts ...string) *s3.Target {
	t.Helper()
	cfg, err := s3.ParseSpec(srv.Spec(bucket, freshPrefix(t), opts...))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func openSpecErr(spec string) (blockstore.Target, error) { return s3.Open(spec) }
