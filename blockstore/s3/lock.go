package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
)

// Locker is implemented by targets whose objects can carry an object lock
// retention (S3 with object lock). The daemon uses it to warn when a vault's
// immutability has no storage lock under it, and to lock what it writes.
type Locker interface {
	// ObjectLock reports whether the bucket has object lock enabled.
	ObjectLock(ctx context.Context) (bool, error)
	// PutWithRetention is Put with the object locked until until, in the
	// spec's lock mode (GOVERNANCE unless lock=compliance).
	PutWithRetention(ctx context.Context, name string, data []byte, until time.Time) error
	// ExtendRetention moves the object's retention to until; it never shortens it.
	ExtendRetention(ctx context.Context, name string, until time.Time) error
	// Retention returns the object's retention mode and date (zero: none).
	Retention(ctx context.Context, name string) (string, time.Time, error)
}

var _ Locker = (*Target)(nil)

func (t *Target) lockMode() minio.RetentionMode {
	if t.cfg.LockMode == "COMPLIANCE" {
		return minio.Compliance
	}
	return minio.Governance
}

// ObjectLock reports whether the bucket was created with object lock.
func (t *Target) ObjectLock(ctx context.Context) (bool, error) {
	var enabled bool
	err := t.hl.do(ctx, 0, func(ctx context.Context) error {
		state, _, _, _, err := t.cl.GetObjectLockConfig(ctx, t.cfg.Bucket)
		if code := minio.ToErrorResponse(err).Code; code == "ObjectLockConfigurationNotFoundError" {
			return nil
		}
		enabled = state == "Enabled"
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s: object lock configuration: %w%s", t.Name(), err, t.hint(err))
	}
	return enabled, nil
}

// PutWithRetention stores data locked until until.
func (t *Target) PutWithRetention(ctx context.Context, name string, data []byte, until time.Time) error {
	if until.IsZero() {
		return fmt.Errorf("%s: put %s with retention: no retain-until date", t.Name(), name)
	}
	return t.put(ctx, name, data, until)
}

// ExtendRetention sets the object's retain-until to until when that is later
// than what it has.
func (t *Target) ExtendRetention(ctx context.Context, name string, until time.Time) error {
	_, cur, err := t.Retention(ctx, name)
	if err != nil || !until.After(cur) {
		return err
	}
	key, err := t.key(name)
	if err != nil {
		return err
	}
	mode, u := t.lockMode(), until.UTC()
	err = t.hl.do(ctx, 0, func(ctx context.Context) error {
		return t.cl.PutObjectRetention(ctx, t.cfg.Bucket, key, minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &u})
	})
	return t.wrap("extend retention of", name, err)
}

// Retention returns name's retention mode and date; zero values when unlocked.
func (t *Target) Retention(ctx context.Context, name string) (string, time.Time, error) {
	key, err := t.key(name)
	if err != nil {
		return "", time.Time{}, err
	}
	var mode string
	var until time.Time
	err = t.hl.do(ctx, 0, func(ctx context.Context) error {
		m, u, err := t.cl.GetObjectRetention(ctx, t.cfg.Bucket, key, "")
		if code := minio.ToErrorResponse(err).Code; code == "NoSuchObjectLockConfiguration" || code == "ObjectLockConfigurationNotFoundError" {
			return nil
		}
		if m != nil {
			mode = string(*m)
		}
		if u != nil {
			until = *u
		}
		return err
	})
	return mode, until, t.wrap("retention of", name, err)
}
