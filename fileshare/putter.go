package fileshare

import (
	"context"
	"sync"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sync/errgroup"
)

// Chunks of one file are stored by a shared pool of putters (hashing,
// compressing and encrypting are the CPU-heavy part) while the file's reader
// goes on reading and cutting: a big file keeps both cores busy.
const (
	putters   = 2
	putWindow = 4 // chunks of one file in flight
)

// chunkJob is one chunk copied out of a reader's buffer; done closes once
// id/err are set.
type chunkJob struct {
	off  int64
	data []byte
	id   blockstore.ID
	err  error
	done chan struct{}
}

var chunkBufs = sync.Pool{New: func() any { return make([]byte, 0, MaxChunk) }}

// startReaders runs the file readers and, until they are all done, the putters.
func (b *backup) startReaders(g *errgroup.Group, ctx context.Context) {
	var readers sync.WaitGroup
	for i := 0; i < b.opts.Workers; i++ {
		readers.Add(1)
		g.Go(func() error {
			defer readers.Done()
			return b.worker(ctx)
		})
	}
	g.Go(func() error {
		readers.Wait()
		close(b.putq)
		return nil
	})
	for i := 0; i < putters; i++ {
		g.Go(func() error {
			for j := range b.putq { // drained even after a failure: Put fails fast then
				j.id, j.err = b.put(ctx, j.data)
				close(j.done)
			}
			return nil
		})
	}
}

// window keeps one file's chunks in order while they are being stored.
type window struct {
	jobs []*chunkJob
}

// send copies c and queues it; when the window is full it completes the
// oldest chunk through add.
func (w *window) send(ctx context.Context, b *backup, off int64, c []byte, add func(Extent) error) error {
	j := &chunkJob{off: off, data: append(chunkBufs.Get().([]byte)[:0], c...), done: make(chan struct{})}
	select {
	case b.putq <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.jobs = append(w.jobs, j)
	if len(w.jobs) < putWindow {
		return nil
	}
	return w.complete(add)
}

// complete waits for the oldest chunk and records its extent.
func (w *window) complete(add func(Extent) error) error {
	j := w.jobs[0]
	w.jobs = w.jobs[1:]
	<-j.done // putters always finish what was queued
	n := len(j.data)
	chunkBufs.Put(j.data[:0]) //lint:ignore SA6002 a slice header is fine here
	if j.err != nil {
		return j.err
	}
	return add(Extent{Off: j.off, Len: int64(n), ID: j.id})
}

// drain completes every chunk still in flight.
func (w *window) drain(add func(Extent) error) error {
	for len(w.jobs) > 0 {
		if err := w.complete(add); err != nil {
			w.abandon()
			return err
		}
	}
	return nil
}

// abandon waits for queued chunks without recording them (after an error).
func (w *window) abandon() {
	for _, j := range w.jobs {
		<-j.done
	}
	w.jobs = nil
}
