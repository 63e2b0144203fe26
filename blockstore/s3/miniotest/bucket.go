package miniotest

import (
	"context"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// MakeBucket creates bucket, with object lock (and so versioning) when lock.
func (s *Server) MakeBucket(t testing.TB, bucket string, lock bool) {
	t.Helper()
	cl, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(User, Password, ""),
		BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.MakeBucket(ctx, bucket, minio.MakeBucketOptions{ObjectLocking: lock}); err != nil {
		t.Fatalf("make bucket %s on MinIO %s: %v", bucket, s.Addr, err)
	}
}
