package vmdisk

import (
	"context"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// Backup captures the disk named by src (a raw file or block device path,
// "nbd://host:port/name", "nbd+unix:///name?socket=PATH", or "qcow2:PATH")
// as a new disk point and returns its root id.
//
// With prev == nil every allocated block is read (a full point). Otherwise
// the point is built from prev's block map: with a trusted dirty bitmap only
// dirty blocks are read, with a changed-block list only listed blocks, and
// without either every allocated block is read and only blocks whose id
// differs from prev's are stored (hash-compare). A bitmap that cannot be
// trusted gives a hash-compare backup and a warning, never an incremental.
//
// Nothing is durable until the caller flushes w and commits Root; then it
// calls res.Commit. On error the caller commits nothing.
func Backup(ctx context.Context, w ChunkWriter, st Store, src string, prev *Prev, opts BackupOptions) (res *BackupResult, err error) {
	var prevMap *mapRoot
	if prev != nil {
		if prevMap, err = loadRoot(ctx, st, prev.Root); err != nil {
			return nil, fmt.Errorf("previous point: %w", err)
		}
	}
	s, err := openSession(ctx, src, prev, prevMap, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := s.close(err == nil); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			res = nil
		}
	}()
	return s.run(ctx, w, st, opts)
}

// run executes the pipeline and assembles the result.
func (s *session) run(ctx context.Context, w ChunkWriter, st Store, opts BackupOptions) (*BackupResult, error) {
	p := &pipeline{s: s, w: w, st: st, opts: opts}
	root, err := p.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup of %s: %w", s.spec, err)
	}
	res := &BackupResult{
		Root: root, Kind: "full", Method: s.method,
		SourceBytes: s.src.Size(), BytesRead: p.bytesRead,
		BytesNew: p.stored + p.mw.stored, BlocksNew: p.blocksNew,
		SourceState: s.state, Chain: s.chain, Warnings: s.warnings, commit: s.commit,
	}
	if s.prevMap != nil {
		res.Kind = "incremental"
	}
	return res, nil
}

// zeroBlock is compared against to detect all-zero blocks; never written.
var zeroBlock = make([]byte, BlockSize)

// zeroID is the block map's marker for an all-zero block.
var zeroID blockstore.ID
