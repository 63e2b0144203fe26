package daemon

import (
	"fmt"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
	"github.com/rewind-backup/rewind/blockstore/targettest"
)

// TestTargetStacks runs every shard target stack the daemon really builds
// (openThrottled: the throttle around a directory, around S3, around S3
// behind the read cache) through the conformance suite, and the directory
// stack through GC's temp cleanup: a wrapper that drops a capability fails.
func TestTargetStacks(t *testing.T) {
	t.Run("throttled-dir", func(t *testing.T) {
		targettest.Run(t, func(t *testing.T) blockstore.Target { return mustOpen(t, t.TempDir()) })
		root := t.TempDir()
		targettest.RunTempCleanup(t, mustOpen(t, root), root)
	})
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "stacks", false)
	n := 0
	spec := func(opts ...string) string {
		n++
		return srv.Spec("stacks", fmt.Sprintf("t%d", n), opts...)
	}
	t.Run("throttled-s3", func(t *testing.T) {
		targettest.Run(t, func(t *testing.T) blockstore.Target { return mustOpen(t, spec()) })
	})
	t.Run("throttled-s3-cached", func(t *testing.T) {
		targettest.Run(t, func(t *testing.T) blockstore.Target {
			return mustOpen(t, spec("cache="+t.TempDir(), "cache-size=16M"))
		})
	})
}

func mustOpen(t *testing.T, spec string) blockstore.Target {
	t.Helper()
	tg, err := openThrottled(spec)
	if err != nil {
		t.Fatalf("open %s: %v", spec, err)
	}
	if _, ok := blockstore.As[*throttledTarget](tg); !ok {
		t.Fatalf("openThrottled(%s) gave %T, not the throttled stack", spec, tg)
	}
	return tg
}
