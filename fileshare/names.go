package fileshare

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// nameRunMax is how many names of one directory are sorted in memory; a
// bigger directory is sorted externally: runs of this size are spilled to
// unlinked temporary files and merged. (A var so tests can lower it.)
var nameRunMax = 65536

// nameIter yields a directory's names in byte order.
type nameIter struct {
	mem   []string // the in-memory run (sorted)
	runs  runHeap  // spilled runs, when there are any
	files []*os.File
	err   error // first spill/read error (the listing ends there)
}

// sortedNames lists f in batches and sorts the names within bounded memory.
// tmpDir holds the spilled runs ("" = os.TempDir()). A listing error ends the
// listing early; it is returned with what was read.
func sortedNames(f *os.File, tmpDir string) (*nameIter, error) {
	it := &nameIter{}
	var listErr error
	for {
		names, err := f.Readdirnames(readDirBatch)
		it.mem = append(it.mem, names...)
		if len(it.mem) >= nameRunMax {
			if err := it.spill(tmpDir); err != nil {
				it.close()
				return nil, err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			listErr = err
			break
		}
	}
	sort.Strings(it.mem)
	if len(it.files) > 0 {
		if err := it.startMerge(); err != nil {
			it.close()
			return nil, err
		}
	}
	return it, listErr
}

func (it *nameIter) spill(tmpDir string) error {
	sort.Strings(it.mem)
	f, err := os.CreateTemp(tmpDir, "rewind-names-*")
	if err != nil {
		return fmt.Errorf("spill directory names (set a writable TempDir): %w", err)
	}
	os.Remove(f.Name()) // nothing is left behind, even after a crash
	it.files = append(it.files, f)
	w := bufio.NewWriterSize(f, 64<<10)
	var lb [binary.MaxVarintLen64]byte
	for _, s := range it.mem {
		w.Write(lb[:binary.PutUvarint(lb[:], uint64(len(s)))])
		w.WriteString(s)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("spill directory names: %w", err)
	}
	it.mem = it.mem[:0]
	return nil
}

func (it *nameIter) startMerge() error {
	for _, f := range it.files {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r := &nameRun{r: bufio.NewReaderSize(f, 64<<10)}
		if err := it.push(r); err != nil {
			return err
		}
	}
	if len(it.mem) > 0 {
		it.runs = append(it.runs, &nameRun{mem: it.mem[1:], cur: it.mem[0]})
		it.mem = nil
	}
	heap.Init(&it.runs)
	return nil
}

func (it *nameIter) push(r *nameRun) error {
	ok, err := r.advance()
	if ok {
		it.runs = append(it.runs, r)
	}
	return err
}

// next returns the next name; false at the end.
func (it *nameIter) next() (string, bool) {
	if it.files == nil {
		if len(it.mem) == 0 {
			return "", false
		}
		s := it.mem[0]
		it.mem = it.mem[1:]
		return s, true
	}
	if len(it.runs) == 0 || it.err != nil {
		return "", false
	}
	r := it.runs[0]
	s := r.cur
	ok, err := r.advance()
	if err != nil {
		it.err = err
	}
	if ok {
		heap.Fix(&it.runs, 0)
	} else {
		heap.Pop(&it.runs)
	}
	return s, true
}

func (it *nameIter) close() {
	for _, f := range it.files {
		f.Close()
	}
}

// nameRun is one sorted run: spilled (r) or in memory (mem).
type nameRun struct {
	r   *bufio.Reader
	mem []string
	cur string
}

func (r *nameRun) advance() (bool, error) {
	if r.r == nil {
		if len(r.mem) == 0 {
			return false, nil
		}
		r.cur, r.mem = r.mem[0], r.mem[1:]
		return true, nil
	}
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil || n > maxNameLen*16 {
		return false, fmt.Errorf("read spilled names: %w", errors.Join(err, io.ErrUnexpectedEOF))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return false, fmt.Errorf("read spilled names: %w", err)
	}
	r.cur = string(b)
	return true, nil
}

type runHeap []*nameRun

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur < h[j].cur }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*nameRun)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
