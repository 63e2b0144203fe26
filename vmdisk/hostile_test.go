package vmdisk

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"testing"
)

// hostileNBD is a small NBD server whose replies a test can break.
type hostileNBD struct {
	size     uint64
	greeting []byte                          // replaces the greeting when set
	read     func(c net.Conn, r nbdReq) bool // replaces the READ reply; false: close
	status   func(c net.Conn, r nbdReq)      // replaces the BLOCK_STATUS reply
}

type nbdReq struct {
	cmd    uint16
	handle uint64
	off    uint64
	n      uint32
}

func be16(v uint16) []byte       { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte       { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte       { return binary.BigEndian.AppendUint64(nil, v) }
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func optReply(opt, typ uint32, data []byte) []byte {
	return cat(be64(nbdRepMagic), be32(opt), be32(typ), be32(uint32(len(data))), data)
}

func chunk(flags, typ uint16, handle uint64, payload []byte) []byte {
	return cat(be32(nbdStructMagic), be16(flags), be16(typ), be64(handle), be32(uint32(len(payload))), payload)
}

// pattern is the export's content: byte i is i/4096.
func pattern(off uint64, n uint32) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((off + uint64(i)) / 4096)
	}
	return b
}

// serve listens on a unix socket in dir and returns the URI.
func (h *hostileNBD) serve(t *testing.T) string {
	sock := filepath.Join(t.TempDir(), "hostile.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); h.conn(c) }()
		}
	}()
	return "nbd+unix:///?socket=" + sock
}

func (h *hostileNBD) conn(c net.Conn) {
	if h.greeting != nil {
		c.Write(h.greeting)
		return
	}
	c.Write(cat(be64(nbdMagic), be64(nbdOptMagic), be16(nbdFlagFixedNew|nbdFlagNoZeroes)))
	var flags [4]byte
	if _, err := io.ReadFull(c, flags[:]); err != nil || !h.options(c) {
		return
	}
	h.transmission(c)
}

// options answers the negotiation; true once NBD_OPT_GO succeeded.
func (h *hostileNBD) options(c net.Conn) bool {
	for {
		var hdr [16]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return false
		}
		opt := binary.BigEndian.Uint32(hdr[8:])
		data := make([]byte, binary.BigEndian.Uint32(hdr[12:]))
		io.ReadFull(c, data)
		switch opt {
		case nbdOptStructured:
			c.Write(optReply(opt, nbdRepAck, nil))
		case nbdOptSetMeta:
			c.Write(cat(optReply(opt, nbdRepMetaCtx, cat(be32(1), []byte(metaAllocation))), optReply(opt, nbdRepAck, nil)))
		case nbdOptGo:
			info := cat(be16(nbdInfoExport), be64(h.size), be16(1))
			c.Write(cat(optReply(opt, nbdRepInfo, info), optReply(opt, nbdRepAck, nil)))
			return true
		default:
			c.Write(optReply(opt, nbdRepErrBit|1, nil))
		}
	}
}

func (h *hostileNBD) transmission(c net.Conn) {
	for {
		var b [28]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return
		}
		r := nbdReq{cmd: binary.BigEndian.Uint16(b[6:]), handle: binary.BigEndian.Uint64(b[8:]),
			off: binary.BigEndian.Uint64(b[16:]), n: binary.BigEndian.Uint32(b[24:])}
		switch {
		case r.cmd == nbdCmdDisc:
			return
		case r.cmd == nbdCmdBlockStatus && h.status != nil:
			h.status(c, r)
		case r.cmd == nbdCmdBlockStatus:
			c.Write(chunk(nbdReplyFlagDone, nbdReplyBlockStat, r.handle, cat(be32(1), be32(r.n), be32(0))))
		case r.cmd == nbdCmdRead && h.read != nil && r.off >= 8<<20:
			if !h.read(c, r) {
				return
			}
		case r.cmd == nbdCmdRead:
			c.Write(chunk(nbdReplyFlagDone, nbdReplyOffsetData, r.handle, cat(be64(r.off), pattern(r.off, r.n))))
		default:
			c.Write(cat(be32(nbdSimpleMagic), be32(22), be64(r.handle)))
		}
	}
}
