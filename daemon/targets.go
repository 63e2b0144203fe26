package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3"
)

// s3Targets keeps one opened S3 target per spec string, so its read cache
// index and its "server is down" memory are shared by every user (a status
// call opens each target again) instead of rebuilt on each open.
var s3Targets sync.Map // spec → blockstore.Target

// openTarget opens a shard target spec: s3://… is an S3-compatible bucket
// (blockstore/s3, FORMAT.md), anything else a local directory.
func openTarget(spec string) (blockstore.Target, error) {
	if !s3.IsSpec(spec) {
		return blockstore.NewDirTarget(spec)
	}
	if t, ok := s3Targets.Load(spec); ok {
		return t.(blockstore.Target), nil
	}
	t, err := s3.Open(spec)
	if err != nil {
		return nil, err
	}
	actual, loaded := s3Targets.LoadOrStore(spec, t)
	if !loaded && strings.Contains(spec, "lock=") {
		go warnNoLock(spec)
	}
	return actual.(blockstore.Target), nil
}

// warnNoLock logs once when a spec asks for lock= but its bucket cannot lock.
func warnNoLock(spec string) {
	for _, w := range objectLockWarnings(context.Background(), []string{spec}) {
		slog.Warn("shard target object lock", "problem", w)
	}
}

// objectLockWarnings checks the S3 targets among specs: one line for each
// whose bucket has no object lock (or cannot say), for the daemon to log when
// a vault's immutability is on or a spec asks for lock=. Local directories
// have no storage-level lock and are not reported here.
func objectLockWarnings(ctx context.Context, specs []string) []string {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var out []string
	for _, spec := range specs {
		if !s3.IsSpec(spec) {
			continue
		}
		t, err := openTarget(spec)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		l, ok := blockstore.As[s3.Locker](t)
		if !ok {
			continue
		}
		switch on, err := l.ObjectLock(ctx); {
		case err != nil:
			out = append(out, fmt.Sprintf("cannot tell whether %s has object lock: %v", t.Name(), err))
		case !on:
			out = append(out, fmt.Sprintf("bucket of %s has no object lock: deleted or overwritten shards cannot be recovered from the storage side; create the bucket with object lock to make backups immutable there", t.Name()))
		}
	}
	return out
}
