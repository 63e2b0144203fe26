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
		BucketLookup: minio.BucketLookupPath, Secure: s.certs != "", Transport: s.httpClient().Transport})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err = cl.MakeBucket(ctx, bucket, minio.MakeBucketOptions{ObjectLocking: lock})
		if err == nil {
			return
		}
		// A server that just said "ready" may still be initialising.
		select {
		case <-ctx.Done():
			t.Fatalf("make bucket %s on MinIO %s: %v", bucket, s.Addr, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
