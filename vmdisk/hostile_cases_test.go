package vmdisk

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

func dataChunk(r nbdReq, off uint64, n uint32) []byte {
	return cat(be64(off), pattern(off, n))
}

var hostileCases = []struct {
	name string
	srv  hostileNBD
	want string
}{
	{"good server", hostileNBD{}, ""},
	{"bad greeting magic", hostileNBD{greeting: []byte("HTTP/1.1 400 Bad Request\r\n\r\n")}, "not an NBD server"},
	{"oldstyle server", hostileNBD{greeting: cat(be64(nbdMagic), be64(nbdOldMagic), be16(0))}, "oldstyle"},
	{"negative size", hostileNBD{size: 1<<63 + 4096}, "negative or beyond"},
	{"huge size", hostileNBD{size: 1 << 62}, "negative or beyond"},
	{"short read", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		c.Write(chunk(nbdReplyFlagDone, nbdReplyOffsetData, r.handle, dataChunk(r, r.off, r.n/2)))
		return true
	}}, "covers only"},
	{"bad reply magic", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		c.Write(cat(be32(0xdeadbeef), make([]byte, 40)))
		return true
	}}, "bad reply magic"},
	{"wrong handle", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		c.Write(chunk(nbdReplyFlagDone, nbdReplyOffsetData, r.handle+7, dataChunk(r, r.off, r.n)))
		return true
	}}, "handle"},
	{"close mid-read", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		full := chunk(nbdReplyFlagDone, nbdReplyOffsetData, r.handle, dataChunk(r, r.off, r.n))
		c.Write(full[:len(full)/3])
		return false
	}}, "closed the connection"},
	{"data outside request", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		c.Write(chunk(nbdReplyFlagDone, nbdReplyOffsetData, r.handle, dataChunk(r, r.off+uint64(r.n)/2, r.n)))
		return true
	}}, "outside the request"},
	{"overlapping chunks", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		c.Write(chunk(0, nbdReplyOffsetData, r.handle, dataChunk(r, r.off, r.n/2)))
		c.Write(chunk(0, nbdReplyOffsetData, r.handle, dataChunk(r, r.off, r.n/2)))
		c.Write(chunk(nbdReplyFlagDone, nbdReplyNone, r.handle, nil))
		return true
	}}, "overlapping"},
	{"oversized chunk", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		c.Write(cat(be32(nbdStructMagic), be16(1), be16(nbdReplyOffsetData), be64(r.handle), be32(1<<31)))
		return true
	}}, "data chunk of"},
	{"server error chunk", hostileNBD{read: func(c net.Conn, r nbdReq) bool {
		msg := "disk on fire"
		c.Write(chunk(nbdReplyFlagDone, nbdReplyErrBit|1, r.handle, cat(be32(5), be16(uint16(len(msg))), []byte(msg))))
		return true
	}}, "disk on fire"},
	{"status beyond export", hostileNBD{status: func(c net.Conn, r nbdReq) {
		c.Write(chunk(nbdReplyFlagDone, nbdReplyBlockStat, r.handle, cat(be32(1), be32(r.n+1<<30), be32(0))))
	}}, "beyond the export"},
	{"status unknown context", hostileNBD{status: func(c net.Conn, r nbdReq) {
		c.Write(chunk(nbdReplyFlagDone, nbdReplyBlockStat, r.handle, cat(be32(9), be32(r.n), be32(0))))
	}}, "unknown context"},
	{"zero-length descriptor", hostileNBD{status: func(c net.Conn, r nbdReq) {
		c.Write(chunk(nbdReplyFlagDone, nbdReplyBlockStat, r.handle, cat(be32(1), be32(0), be32(0))))
	}}, "zero-length"},
}

// TestHostileNBDServer: every broken reply fails the backup with a clear
// error, and nothing the backup put survives (the writer is abandoned).
func TestHostileNBDServer(t *testing.T) {
	ts := newTestStore(t)
	firstBlock := ts.ChunkID(pattern(0, BlockSize))
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.srv
			if srv.size == 0 {
				srv.size = 16 << 20
			}
			uri := srv.serve(t)
			ctx := context.Background()
			w := ts.NewWriter()
			res, err := Backup(ctx, w, ts, uri, nil, BackupOptions{})
			if tc.want == "" {
				w.Close()
				if err != nil {
					t.Fatalf("good server: %v", err)
				}
				return // not flushed: later cases check nothing is committed
			}
			w.Close()
			if err == nil || res != nil {
				t.Fatalf("backup succeeded against a server with %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(tc.want, "handle") && !errors.Is(err, ErrNBDProtocol) {
				t.Errorf("error is not ErrNBDProtocol: %v", err)
			}
			if ok, _ := ts.Has(ctx, firstBlock); ok {
				t.Fatalf("block 0 was committed by a failed backup")
			}
		})
	}
}
