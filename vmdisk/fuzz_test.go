package vmdisk

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// replayConn is a net.Conn that reads a fixed server byte stream and
// discards what the client writes.
type replayConn struct{ r *bytes.Reader }

func (c *replayConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *replayConn) Close() error                     { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.UnixAddr{} }
func (c *replayConn) RemoteAddr() net.Addr             { return &net.UnixAddr{} }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

func fuzzClient(data []byte) *nbdClient {
	conn := &replayConn{bytes.NewReader(data)}
	return &nbdClient{conn: conn, br: bufio.NewReader(conn), structured: true, size: 1 << 20,
		contexts: map[string]uint32{metaAllocation: 1}}
}

// FuzzNBDReply feeds arbitrary bytes as the reply to a read and to a block
// status request: errors are fine, panics and unfilled buffers are not.
func FuzzNBDReply(f *testing.F) {
	f.Add(chunk(nbdReplyFlagDone, nbdReplyOffsetData, 1, cat(be64(4096), pattern(4096, 512))))
	f.Add(cat(chunk(0, nbdReplyOffsetHole, 1, cat(be64(4096), be32(256))),
		chunk(nbdReplyFlagDone, nbdReplyOffsetData, 1, cat(be64(4096+256), pattern(0, 256)))))
	f.Add(cat(be32(nbdSimpleMagic), be32(0), be64(1), pattern(0, 512)))
	f.Add(chunk(nbdReplyFlagDone, nbdReplyBlockStat, 1, cat(be32(1), be32(512), be32(3))))
	f.Add(chunk(nbdReplyFlagDone, nbdReplyErrBit|1, 1, cat(be32(5), be16(2), []byte("no"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzClient(data)
		p := bytes.Repeat([]byte{0xAA}, 512)
		r := &replyReader{c: c, handle: 1, what: "fuzz read"}
		if err := r.read(p, 4096); err == nil && bytes.Contains(p, []byte{0xAA}) && !bytes.Contains(data, []byte{0xAA}) {
			t.Fatalf("read succeeded but left the buffer unfilled")
		}
		c = fuzzClient(data)
		r = &replyReader{c: c, handle: 1, what: "fuzz status"}
		if des, err := r.blockStatus(1, 4096, 512); err == nil {
			for _, d := range des {
				if d.off < 4096 || d.end() > 4096+512 || d.n <= 0 {
					t.Fatalf("descriptor %+v outside the request", d)
				}
			}
		}
	})
}

// FuzzNBDHandshake feeds arbitrary bytes as the server's side of the
// handshake.
func FuzzNBDHandshake(f *testing.F) {
	good := cat(be64(nbdMagic), be64(nbdOptMagic), be16(3),
		optReply(nbdOptStructured, nbdRepAck, nil),
		optReply(nbdOptSetMeta, nbdRepMetaCtx, cat(be32(1), []byte(metaAllocation))), optReply(nbdOptSetMeta, nbdRepAck, nil),
		optReply(nbdOptGo, nbdRepInfo, cat(be16(0), be64(1<<20), be16(1))), optReply(nbdOptGo, nbdRepAck, nil))
	f.Add(good)
	f.Add(good[:30])
	f.Add(cat(be64(nbdMagic), be64(nbdOldMagic)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzClient(data)
		c.contexts = map[string]uint32{}
		if err := c.handshake([]string{metaAllocation}); err == nil && (c.size < 0 || c.size > MaxDiskSize) {
			t.Fatalf("accepted size %d", c.size)
		}
	})
}

// FuzzChangedBlocks: any input is accepted or refused with a
// ChangedBlocksError, and accepted sets stay inside the disk.
func FuzzChangedBlocks(f *testing.F) {
	f.Add([]byte(`[{"offset":0,"length":4096,"exists":"true"},{"offset":8388608,"length":1,"exists":"false"}]`))
	f.Add([]byte(`[{"offset":0,"length":1},{"offset":0,"length":1}]`))
	f.Add([]byte(`[{"offset":-5,"length":1e30}]`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := parseChangedBlocks("fuzz.json", data, 64<<20)
		if err != nil {
			var ce *ChangedBlocksError
			if !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, r := range set.r {
			if r.a < 0 || r.b > 16 || r.a >= r.b {
				t.Fatalf("block range %v outside a 16-block disk", r)
			}
		}
	})
}

// FuzzBlockMap: decoding root and page objects never panics.
func FuzzBlockMap(f *testing.F) {
	f.Add(encodeRoot(&mapRoot{size: 10 << 20, pages: make([]blockstore.ID, 1), state: `{"v":1}`}))
	f.Add(encodePage(make([]blockstore.ID, 3)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := decodeRoot(data); err == nil {
			if int64(len(r.pages)) != pagesFor(blocksFor(r.size)) {
				t.Fatalf("root with %d pages for %d bytes accepted", len(r.pages), r.size)
			}
			if string(encodeRoot(r)) != string(data) {
				t.Fatalf("root does not round-trip")
			}
		}
		decodePage(data, 3)
	})
}

// FuzzQcow2Header: any first cluster is parsed or refused with an error;
// a name it returns always lies within the bytes given and QEMU's limits.
func FuzzQcow2Header(f *testing.F) {
	f.Add(hostileHeader())
	f.Add(hostileHeader()[:104])
	f.Add([]byte("QFI\xfb"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseQcow2Header(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(h.Backing) > qcowMaxBackingName || len(h.BackingFormat) > qcowMaxBackingName || len(h.DataFileName) > qcowMaxBackingName {
			t.Fatalf("oversized name accepted: %+v", h)
		}
		if h.Backing != "" && !bytes.Contains(data, []byte(h.Backing)) {
			t.Fatalf("backing name %q not from the input", h.Backing)
		}
	})
}
