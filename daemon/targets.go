package daemon

import "github.com/rewind-backup/rewind/blockstore"

// openTarget opens a shard target spec: a local directory. (S3 targets plug in here.)
func openTarget(spec string) (blockstore.Target, error) {
	return blockstore.NewDirTarget(spec)
}
