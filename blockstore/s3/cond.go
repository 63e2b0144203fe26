package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/rewind-backup/rewind/blockstore"
)

var _ blockstore.Conditional = (*Target)(nil)

// GetVersion reads the whole object (at most max bytes); its version is
// the ETag the server gave it.
func (t *Target) GetVersion(ctx context.Context, name string, max int64) ([]byte, string, error) {
	key, err := t.key(name)
	if err != nil {
		return nil, "", err
	}
	var data []byte
	var etag string
	err = t.hl.do(ctx, 0, func(ctx context.Context) error {
		body, info, _, err := minio.Core{Client: t.cl}.GetObject(ctx, t.cfg.Bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer body.Close()
		if info.Size > max {
			return fmt.Errorf("object is %d bytes, more than %d", info.Size, max)
		}
		data, err = io.ReadAll(io.LimitReader(body, max))
		etag = info.ETag
		return err
	})
	return data, etag, t.wrap("read", name, err)
}

// PutIf stores data with If-None-Match: * (version "") or If-Match: the
// ETag; the server answers 412 when the object changed: ErrPrecondition.
func (t *Target) PutIf(ctx context.Context, name string, data []byte, version string) error {
	key, err := t.key(name)
	if err != nil {
		return err
	}
	opts := minio.PutObjectOptions{SendContentMd5: true, DisableMultipart: true, ContentType: "application/octet-stream"}
	if version == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(version)
	}
	err = t.hl.do(ctx, len(data), func(ctx context.Context) error {
		_, err := t.cl.PutObject(ctx, t.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), opts)
		return err
	})
	if code := minio.ToErrorResponse(err).Code; code == minio.PreconditionFailed || (version != "" && isNotExist(err)) {
		return fmt.Errorf("%s: put %s: %w", t.Name(), name, blockstore.ErrPrecondition)
	}
	return t.wrap("put", name, err)
}
