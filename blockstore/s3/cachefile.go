package s3

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A block file is the block's bytes followed by their CRC-32C (4 bytes,
// little endian), written to a temp name and renamed into place.
const cacheTempPrefix = ".tmp-"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// lookup returns a cached block whose checksum holds, dropping a bad one.
func (c *Cache) lookup(f string) ([]byte, bool) {
	c.mu.Lock()
	e, ok := c.m[f]
	if ok {
		c.lru.MoveToFront(e)
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	path := filepath.Join(c.dir, f)
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 4 {
		data, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
		if crc32.Checksum(data, castagnoli) == sum {
			c.mu.Lock()
			e.Value.(*cached).verified = true
			c.mu.Unlock()
			return data, true
		}
	}
	c.mu.Lock()
	if e2, ok := c.m[f]; ok && e2 == e {
		c.removeLocked(e)
	}
	c.mu.Unlock()
	return nil, false
}

// readVerified reads part of a block file this process has written or
// checked, without rereading the whole block.
func (c *Cache) readVerified(f string, dst []byte, at int64) (int, bool) {
	c.mu.Lock()
	e, ok := c.m[f]
	var it cached
	if ok {
		c.lru.MoveToFront(e)
		it = *e.Value.(*cached)
	}
	c.mu.Unlock()
	if !ok || !it.verified {
		return 0, false
	}
	n := int(max(0, min(int64(len(dst)), it.size-4-at)))
	if n == 0 {
		return 0, true
	}
	fh, err := os.Open(filepath.Join(c.dir, f))
	if err != nil {
		return 0, false
	}
	defer fh.Close()
	if _, err := fh.ReadAt(dst[:n], at); err != nil {
		return 0, false
	}
	return n, true
}

// store writes a block file and evicts least recently used ones over the bound.
func (c *Cache) store(f string, data []byte) {
	if int64(len(data)) > c.max {
		return
	}
	b := binary.LittleEndian.AppendUint32(append(make([]byte, 0, len(data)+4), data...), crc32.Checksum(data, castagnoli))
	tmp, err := os.CreateTemp(c.dir, cacheTempPrefix)
	if err != nil {
		return // a cache that cannot write just does not cache
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(c.dir, f))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return
	}
	c.add(f, int64(len(b)), true)
}

func (c *Cache) add(f string, size int64, verified bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[f]; ok {
		c.used -= e.Value.(*cached).size
		c.lru.Remove(e)
	}
	c.m[f] = c.lru.PushFront(&cached{file: f, size: size, verified: verified})
	c.used += size
	for c.used > c.max && c.lru.Len() > 0 {
		c.removeLocked(c.lru.Back())
	}
}

// load indexes the block files of an earlier run, oldest first, and removes
// temp files a crash left.
func (c *Cache) load() error {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	type old struct {
		f    string
		size int64
		mod  int64
	}
	var olds []old
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), cacheTempPrefix) {
			os.Remove(filepath.Join(c.dir, e.Name()))
			continue
		}
		olds = append(olds, old{e.Name(), info.Size(), info.ModTime().UnixNano()})
	}
	sort.Slice(olds, func(i, j int) bool { return olds[i].mod < olds[j].mod })
	for _, o := range olds {
		c.add(o.f, o.size, false)
	}
	return nil
}
