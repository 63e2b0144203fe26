package blockstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// segment is an open or sealing segment: entries appended back to back.
type segment struct {
	id      uint64
	buf     []byte
	entries []segEntry
	writing sync.WaitGroup // entries reserved but not yet written
	done    chan struct{}  // closed when committed or failed
	err     error          // set before done is closed
}

type segEntry struct {
	id     ID
	off    uint32
	length uint32
}

// segSlack is extra buffer capacity so a segment rarely reallocates when its
// last chunk crosses the sealing threshold.
const segSlack = 4<<20 + 4<<10

// openSegmentLocked returns the shared open segment, starting one with room
// for at least n bytes if needed.
func (s *Store) openSegmentLocked(n int) (*segment, error) {
	if s.open != nil {
		return s.open, nil
	}
	id, err := s.takeSegmentID()
	if err != nil {
		return nil, err
	}
	seg := &segment{id: id, buf: s.segmentBuffer(n), done: make(chan struct{})}
	s.open = seg
	s.pending[id] = seg
	return seg, nil
}

// segmentBuffer returns an empty buffer for a new open segment, reusing one
// from a finished seal when it can (saves zeroing 32 MiB per segment).
func (s *Store) segmentBuffer(n int) []byte {
	select {
	case b := <-s.bufs:
		if cap(b) >= n {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, max(s.segSize+segSlack, n))
}

func (s *Store) recycle(b []byte) {
	select {
	case s.bufs <- b[:0]:
	default:
	}
}

// detachLocked takes the open segment out of service for sealing.
func (s *Store) detachLocked() *segment {
	seg := s.open
	s.open = nil
	s.sealWG.Add(1)
	return seg
}

// startSeal seals seg in the background, at most maxSealsInFlight at once:
// the caller blocks here while that many are running (bounded memory).
func (s *Store) startSeal(seg *segment) {
	s.sealSem <- struct{}{}
	go func() {
		defer s.sealWG.Done()
		defer func() { <-s.sealSem }()
		s.seal(seg)
	}()
}

// seal writes the shards, then commits the index batch: commit order.
func (s *Store) seal(seg *segment) {
	ctx := context.Background()
	seg.writing.Wait() // putters still encrypting into reserved ranges
	err := s.checkOwner(ctx)
	if e := s.Epoch(); err == nil && EpochOf(seg.id) != e {
		err = fmt.Errorf("segment %016x was started before this host took owner epoch %d: back up again", seg.id, e)
	}
	var failed []int
	if err == nil {
		failed, err = s.writeSegment(ctx, seg.id, seg.buf)
	}
	s.recycle(seg.buf)
	if err == nil {
		var mark func(*pebble.Batch) error
		if len(failed) > 0 {
			mark = func(b *pebble.Batch) error { return markDegraded(b, seg.id, failed) }
		}
		err = s.commitSegment(seg.id, int64(len(seg.buf)), seg.entries, mark)
	}
	if err != nil {
		s.deleteShards(ctx, seg.id)
	}
	s.mu.Lock()
	for _, e := range seg.entries {
		if s.inflight[e.id] == seg {
			delete(s.inflight, e.id)
		}
	}
	delete(s.pending, seg.id)
	s.mu.Unlock()
	seg.err = err
	seg.buf = nil
	close(seg.done)
}

// writeSegment erasure-codes data and puts one shard per target, in parallel;
// every Put is durable when it returns. It returns the shards whose target
// failed when the placement rule still allows the segment (degraded).
func (s *Store) writeSegment(ctx context.Context, id uint64, data []byte) ([]int, error) {
	shards, dataLen := s.split(data)
	defer s.recycleParity(shards[s.layout.DataShards:])
	if s.rs != nil {
		if err := s.rs.Encode(shards); err != nil {
			return nil, fmt.Errorf("segment %016x: encode: %w", id, err)
		}
	}
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.putShard(ctx, id, i, dataLen, shards[i])
		}()
	}
	wg.Wait()
	return s.checkShardWrites(id, errs)
}

func (s *Store) putShard(ctx context.Context, seg uint64, i int, dataLen int64, data []byte) error {
	prefix := shardPrefix(seg, i, s.layout.DataShards, s.layout.ParityShards, dataLen, data)
	return putParts(ctx, s.targets[i], shardName(seg, i), prefix, data)
}

// split pads data to k equal data shards and allocates m parity shards.
func (s *Store) split(data []byte) ([][]byte, int64) {
	k, m := s.layout.DataShards, s.layout.ParityShards
	L := int64(len(data))
	S := max((L+int64(k)-1)/int64(k), 1)
	for int64(len(data)) < S*int64(k) {
		data = append(data, 0)
	}
	shards := make([][]byte, k+m)
	for i := 0; i < k; i++ {
		shards[i] = data[int64(i)*S : int64(i+1)*S]
	}
	copy(shards[k:], s.parityBuffers(int(S)))
	return shards, L
}

// parityBuffers returns m buffers of n bytes, reused from an earlier seal
// when large enough (Encode overwrites them entirely).
func (s *Store) parityBuffers(n int) [][]byte {
	var bufs [][]byte
	select {
	case bufs = <-s.parity:
	default:
	}
	out := make([][]byte, s.layout.ParityShards)
	for i := range out {
		if i < len(bufs) && cap(bufs[i]) >= n {
			out[i] = bufs[i][:n]
		} else {
			out[i] = make([]byte, n)
		}
	}
	return out
}

func (s *Store) recycleParity(bufs [][]byte) {
	select {
	case s.parity <- bufs:
	default:
	}
}

// commitSegment writes index entries and the segment record in one synced
// batch; extra (may be nil) adds more mutations to the same batch.
func (s *Store) commitSegment(id uint64, dataLen int64, entries []segEntry, extra func(*pebble.Batch) error) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, e := range entries {
		b.Set(chunkKey(e.id), location{segment: id, offset: e.off, length: e.length}.encode(), nil)
	}
	rec := segRecord{dataLen: dataLen, entries: uint32(len(entries)), created: time.Now().UnixNano()}
	b.Set(segKey(id), rec.encode(), nil)
	if extra != nil {
		if err := extra(b); err != nil {
			return fmt.Errorf("segment %016x: commit index: %w", id, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("segment %016x: commit index: %w", id, err)
	}
	return nil
}

// deleteShards removes a segment's shard objects from every target.
func (s *Store) deleteShards(ctx context.Context, id uint64) error {
	s.hdrs.dropSegment(id, len(s.targets))
	var errs []error
	for i, t := range s.targets {
		errs = append(errs, t.Delete(ctx, shardName(id, i)))
	}
	return errors.Join(errs...)
}
