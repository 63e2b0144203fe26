package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/rewind-backup/rewind/blockstore"
)

// Target is a blockstore.Target on one bucket (and prefix). Safe for
// concurrent use.
type Target struct {
	cfg Config
	cl  *minio.Client
	hl  health
}

var _ blockstore.Target = (*Target)(nil)

// errShort marks a ranged read that ran past the object's end.
var errShort = errors.New("short object")

// New returns a Target for cfg. It does no network I/O: a missing bucket or
// bad credentials show on the first request (see Check).
func New(cfg Config) (*Target, error) {
	cl, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Target{cfg: cfg, cl: cl}, nil
}

// Name is s3://HOST:PORT/BUCKET[/PREFIX], never with credentials.
func (t *Target) Name() string { return t.cfg.Name() }

// Config returns the parsed spec (with its secret: do not print it).
func (t *Target) Config() Config { return t.cfg }

func (t *Target) key(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "//") ||
		strings.Contains(name, "\\") || strings.Contains(name, "..") {
		return "", fmt.Errorf("%s: invalid object name %q", t.Name(), name)
	}
	if t.cfg.Prefix == "" {
		return name, nil
	}
	return t.cfg.Prefix + "/" + name, nil
}

// Put stores data as one object with a content length and Content-MD5, so
// the server keeps all of it or nothing; the size it reports is checked. The
// signature covers the MD5, so the payload is not hashed a second time.
// With lock= in the spec the object gets that retention.
func (t *Target) Put(ctx context.Context, name string, data []byte) error {
	var until time.Time
	if t.cfg.LockMode != "" {
		until = time.Now().Add(t.cfg.LockFor)
	}
	return t.put(ctx, name, data, until)
}

func (t *Target) put(ctx context.Context, name string, data []byte, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := t.key(name)
	if err != nil {
		return err
	}
	opts := minio.PutObjectOptions{SendContentMd5: true, DisableContentSha256: true, DisableMultipart: true,
		ContentType: "application/octet-stream"}
	if !until.IsZero() {
		opts.Mode, opts.RetainUntilDate = t.lockMode(), until.UTC()
	}
	err = t.hl.do(ctx, len(data), func(ctx context.Context) error {
		info, err := t.cl.PutObject(ctx, t.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), opts)
		if err == nil && info.Size != int64(len(data)) {
			err = fmt.Errorf("server stored %d bytes of %d", info.Size, len(data))
		}
		return err
	})
	return t.wrap("put", name, err)
}

// ReadAt fetches exactly [off, off+len(p)) with one ranged GET.
func (t *Target) ReadAt(ctx context.Context, name string, p []byte, off int64) error {
	key, err := t.key(name)
	if err != nil {
		return err
	}
	if len(p) == 0 {
		return t.readEmpty(ctx, name, off)
	}
	err = t.hl.do(ctx, len(p), func(ctx context.Context) error { return t.get(ctx, key, p, off) })
	if errors.Is(err, errShort) {
		return fmt.Errorf("%s: read %s at %d+%d: %w", t.Name(), name, off, len(p), io.ErrUnexpectedEOF)
	}
	return t.wrap("read", name, err)
}

func (t *Target) readEmpty(ctx context.Context, name string, off int64) error {
	size, err := t.Stat(ctx, name)
	if err == nil && off > size {
		return fmt.Errorf("%s: read %s at %d: %w", t.Name(), name, off, io.ErrUnexpectedEOF)
	}
	return err
}

func (t *Target) get(ctx context.Context, key string, p []byte, off int64) error {
	var opts minio.GetObjectOptions
	if err := opts.SetRange(off, off+int64(len(p))-1); err != nil {
		return err
	}
	body, info, _, err := minio.Core{Client: t.cl}.GetObject(ctx, t.cfg.Bucket, key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == "InvalidRange" {
			return errShort
		}
		return err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p)
	if err == io.ErrUnexpectedEOF && int64(n) == info.Size {
		return errShort // the server sent all the object had
	}
	return err
}

// Stat returns the object's size.
func (t *Target) Stat(ctx context.Context, name string) (int64, error) {
	key, err := t.key(name)
	if err != nil {
		return 0, err
	}
	var size int64
	err = t.hl.do(ctx, 0, func(ctx context.Context) error {
		info, err := t.cl.StatObject(ctx, t.cfg.Bucket, key, minio.StatObjectOptions{})
		size = info.Size
		return err
	})
	return size, t.wrap("stat", name, err)
}

// Delete removes the object; a missing object is not an error. In a
// versioned (object lock) bucket this adds a delete marker and the locked
// version stays until its retention ends.
func (t *Target) Delete(ctx context.Context, name string) error {
	key, err := t.key(name)
	if err != nil {
		return err
	}
	err = t.hl.do(ctx, 0, func(ctx context.Context) error {
		return t.cl.RemoveObject(ctx, t.cfg.Bucket, key, minio.RemoveObjectOptions{})
	})
	if isNotExist(err) {
		err = nil
	}
	return t.wrap("delete", name, err)
}

// readUpTo reads at most len(p) bytes at off and says how many the object
// had; the read cache uses it to fetch whole blocks without a Stat.
func (t *Target) readUpTo(ctx context.Context, name string, p []byte, off int64) (int, error) {
	key, err := t.key(name)
	if err != nil {
		return 0, err
	}
	var n int
	err = t.hl.do(ctx, len(p), func(ctx context.Context) error {
		var err error
		n, err = t.getUpTo(ctx, key, p, off)
		return err
	})
	return n, t.wrap("read", name, err)
}

func (t *Target) getUpTo(ctx context.Context, key string, p []byte, off int64) (int, error) {
	err := t.get(ctx, key, p, off)
	if err == nil {
		return len(p), nil
	}
	if !errors.Is(err, errShort) {
		return 0, err
	}
	size, err := t.cl.StatObject(ctx, t.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, err
	}
	return int(max(0, min(size.Size-off, int64(len(p))))), nil
}
