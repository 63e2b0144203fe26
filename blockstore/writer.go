package blockstore

import (
	"context"
	"errors"
	"fmt"
)

// Writer is one ingest session. Safe for concurrent Put from several goroutines.
// Its state is guarded by the store's mutex.
type Writer struct {
	s      *Store
	refs   map[ID]struct{}       // every chunk put or deduplicated against
	segs   map[*segment]struct{} // uncommitted segments holding chunks it needs
	closed bool
	failed error // sticky: a seal holding this writer's chunks failed
}

var errWriterClosed = errors.New("blockstore: writer is closed")
var errStoreClosed = errors.New("blockstore: store is closed")

// NewWriter starts a writing session (one per backup job). Every chunk the
// writer puts or deduplicates against is protected from GC until Close.
func (s *Store) NewWriter() *Writer {
	w := &Writer{s: s, refs: map[ID]struct{}{}, segs: map[*segment]struct{}{}}
	s.mu.Lock()
	s.writers[w] = struct{}{}
	s.mu.Unlock()
	return w
}

// Put stores data (at most MaxChunkSize) unless a chunk with its id exists.
// The chunk becomes durable and visible to Get only after Flush.
func (w *Writer) Put(ctx context.Context, data []byte) (PutResult, error) {
	if len(data) > MaxChunkSize {
		return PutResult{}, fmt.Errorf("put: chunk of %d bytes exceeds %d", len(data), MaxChunkSize)
	}
	if err := ctx.Err(); err != nil {
		return PutResult{}, err
	}
	k, err := w.s.keys()
	if err != nil {
		return PutResult{}, err
	}
	if w.s.needsRebuild.Load() {
		return PutResult{}, errNeedsRebuild
	}
	id := k.chunkID(data)
	if hit, err := w.dedupe(id); err != nil || hit {
		return PutResult{ID: id}, err
	}
	flags, payload, release := compress(data)
	defer release()
	nonce, err := w.s.nonces.take()
	if err != nil {
		return PutResult{}, err
	}
	n := entryLen(payload)
	dst, seg, seal, err := w.reserve(id, n)
	if err != nil || dst == nil {
		return PutResult{ID: id}, err // error, or another writer stored it meanwhile
	}
	k.sealEntry(dst, id, flags, w.s.Epoch(), nonce, payload) // outside the lock
	seg.writing.Done()
	for _, full := range seal {
		w.s.startSeal(full)
	}
	return PutResult{ID: id, New: true, Stored: n}, nil
}

// dedupe records id and reports true when it is committed or in flight.
func (w *Writer) dedupe(id ID) (bool, error) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return false, err
	}
	if seg := s.inflight[id]; seg != nil {
		w.refLocked(id, seg)
		return true, nil
	}
	_, ok, err := getValue(s.db, chunkKey(id))
	if err != nil || !ok {
		return false, err
	}
	w.refLocked(id, nil)
	return true, nil
}

func (w *Writer) usableLocked() error {
	if w.s.closed {
		return errStoreClosed
	}
	if w.closed {
		return errWriterClosed
	}
	return nil
}

// refLocked protects id from GC and makes Flush wait for seg.
func (w *Writer) refLocked(id ID, seg *segment) {
	w.refs[id] = struct{}{}
	if seg != nil {
		w.segs[seg] = struct{}{}
	}
	if w.s.gcMarks != nil {
		w.s.gcMarks[id] = struct{}{}
	}
}

// reserve claims n bytes for id's entry in the open segment (a short
// critical section; the caller encrypts into dst outside the lock and then
// calls seg.writing.Done). It returns segments that are full and must be
// sealed, and dst == nil when id is already in flight.
func (w *Writer) reserve(id ID, n int) (dst []byte, seg *segment, seal []*segment, err error) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return nil, nil, nil, err
	}
	if in := s.inflight[id]; in != nil { // another writer won the race
		w.refLocked(id, in)
		return nil, nil, nil, nil
	}
	if s.open != nil && len(s.open.buf)+n > cap(s.open.buf) {
		seal = append(seal, s.detachLocked()) // full: never reallocate under writers
	}
	if seg, err = s.openSegmentLocked(n); err != nil {
		return nil, nil, seal, err
	}
	off := len(seg.buf)
	seg.buf = seg.buf[:off+n]
	dst = seg.buf[off : off+n : off+n]
	seg.entries = append(seg.entries, segEntry{id: id, off: uint32(off), length: uint32(n)})
	seg.writing.Add(1)
	s.inflight[id] = seg
	w.refLocked(id, seg)
	if len(seg.buf) >= s.segSize {
		seal = append(seal, s.detachLocked())
	}
	return dst, seg, seal, nil
}

// Flush seals and commits everything this writer put: shards fsynced on every
// target, then the index batch committed with sync. Once a seal holding this
// writer's chunks failed, every later Flush returns that error: start over
// with a new Writer.
func (w *Writer) Flush(ctx context.Context) error {
	s := w.s
	s.mu.Lock()
	if err := w.usableLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	var seal *segment
	if _, mine := w.segs[s.open]; mine && s.open != nil {
		seal = s.detachLocked()
	}
	segs := make([]*segment, 0, len(w.segs))
	for seg := range w.segs {
		segs = append(segs, seg)
	}
	s.mu.Unlock()
	if seal != nil {
		s.startSeal(seal)
	}
	return w.wait(ctx, segs)
}

func (w *Writer) wait(ctx context.Context, segs []*segment) error {
	var errs []error
	for _, seg := range segs {
		select {
		case <-seg.done:
			errs = append(errs, seg.err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for _, seg := range segs {
		delete(w.segs, seg)
	}
	if err := errors.Join(distinct(errs)...); err != nil && w.failed == nil {
		w.failed = fmt.Errorf("flush: chunks of this writer were lost: %w", err)
	}
	return w.failed
}

// distinct drops nil errors and repeats of an earlier error's text (the same
// takeover or target failure stops every segment of a flush).
func distinct(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	return out
}

// Close ends the session (after Flush, or to abandon it: unflushed chunks are
// dropped and GC may reclaim them). The writer's chunks stop being protected
// from GC here, so the catalog must record its recovery point (where the GC
// Enumerator will find it) before calling Close.
func (w *Writer) Close() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.closed = true
	w.refs, w.segs = nil, nil
	delete(w.s.writers, w)
	return nil
}
