package vmdisk

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// dialNBD connects, negotiates structured replies and the requested meta
// contexts, and enters transmission with NBD_OPT_GO.
func dialNBD(ctx context.Context, spec string, contexts []string) (*nbdClient, error) {
	a, err := parseNBDURI(spec)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, a.network, a.addr)
	if err != nil {
		return nil, fmt.Errorf("connect to NBD server %s: %w", a, err)
	}
	c := &nbdClient{conn: conn, br: bufio.NewReaderSize(conn, 256<<10), addr: a, contexts: map[string]uint32{}}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := c.handshake(contexts); err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("NBD handshake with %s: %w", a, err)
	}
	conn.SetDeadline(time.Time{})
	return c, nil
}

func (c *nbdClient) handshake(contexts []string) error {
	var hdr [18]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return c.ioErr("greeting", err)
	}
	if m := binary.BigEndian.Uint64(hdr[:]); m != nbdMagic {
		return c.protoErr("greeting magic %#x is not NBDMAGIC: not an NBD server", m)
	}
	if m := binary.BigEndian.Uint64(hdr[8:]); m != nbdOptMagic {
		if m == nbdOldMagic {
			return c.protoErr("server speaks the oldstyle handshake only; use a newstyle server (qemu-nbd, nbdkit)")
		}
		return c.protoErr("greeting magic %#x is not IHAVEOPT", m)
	}
	flags := binary.BigEndian.Uint16(hdr[16:])
	if flags&nbdFlagFixedNew == 0 {
		return c.protoErr("server does not offer fixed newstyle negotiation")
	}
	if err := c.write(binary.BigEndian.AppendUint32(nil, uint32(flags&(nbdFlagFixedNew|nbdFlagNoZeroes)))); err != nil {
		return err
	}
	if err := c.negotiateStructured(); err != nil {
		return err
	}
	if len(contexts) > 0 && c.structured {
		if err := c.setMeta(contexts); err != nil {
			return err
		}
	}
	return c.optGo()
}

func (c *nbdClient) write(b []byte) error {
	if _, err := c.conn.Write(b); err != nil {
		return c.ioErr("write", err)
	}
	return nil
}

func (c *nbdClient) sendOpt(opt uint32, data []byte) error {
	b := binary.BigEndian.AppendUint64(nil, nbdOptMagic)
	b = binary.BigEndian.AppendUint32(b, opt)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return c.write(append(b, data...))
}

// readOptReply reads one option reply for opt.
func (c *nbdClient) readOptReply(opt uint32) (typ uint32, data []byte, err error) {
	var h [20]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, c.ioErr("option reply", err)
	}
	if m := binary.BigEndian.Uint64(h[:]); m != nbdRepMagic {
		return 0, nil, c.protoErr("option reply magic %#x", m)
	}
	if o := binary.BigEndian.Uint32(h[8:]); o != opt {
		return 0, nil, c.protoErr("reply for option %d while negotiating option %d", o, opt)
	}
	typ = binary.BigEndian.Uint32(h[12:])
	n := binary.BigEndian.Uint32(h[16:])
	if n > nbdMaxOptReply {
		return 0, nil, c.protoErr("option reply of %d bytes (limit %d)", n, nbdMaxOptReply)
	}
	data = make([]byte, n)
	if _, err := io.ReadFull(c.br, data); err != nil {
		return 0, nil, c.ioErr("option reply", err)
	}
	return typ, data, nil
}

func (c *nbdClient) negotiateStructured() error {
	if err := c.sendOpt(nbdOptStructured, nil); err != nil {
		return err
	}
	typ, _, err := c.readOptReply(nbdOptStructured)
	switch {
	case err != nil:
		return err
	case typ == nbdRepAck:
		c.structured = true
	case typ&nbdRepErrBit == 0:
		return c.protoErr("unexpected reply type %#x to NBD_OPT_STRUCTURED_REPLY", typ)
	}
	return nil
}

func (c *nbdClient) setMeta(contexts []string) error {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(c.addr.export)))
	b = append(b, c.addr.export...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(contexts)))
	for _, q := range contexts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(q)))
		b = append(b, q...)
	}
	if err := c.sendOpt(nbdOptSetMeta, b); err != nil {
		return err
	}
	for {
		typ, data, err := c.readOptReply(nbdOptSetMeta)
		if err != nil {
			return err
		}
		switch {
		case typ == nbdRepAck:
			return nil
		case typ == nbdRepMetaCtx:
			if err := c.addContext(data, contexts); err != nil {
				return err
			}
		case typ&nbdRepErrBit != 0:
			return nil // no contexts: callers see them missing
		default:
			return c.protoErr("unexpected reply type %#x to NBD_OPT_SET_META_CONTEXT", typ)
		}
	}
}

func (c *nbdClient) addContext(data []byte, asked []string) error {
	if len(data) < 5 {
		return c.protoErr("meta context reply of %d bytes", len(data))
	}
	id, name := binary.BigEndian.Uint32(data), string(data[4:])
	for _, q := range asked {
		if q == name {
			c.contexts[name] = id
			return nil
		}
	}
	return c.protoErr("server granted meta context %q that was not asked for", name)
}

// optGo selects the export and reads its size and flags.
func (c *nbdClient) optGo() error {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(c.addr.export)))
	b = append(b, c.addr.export...)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, nbdInfoBlockSize)
	if err := c.sendOpt(nbdOptGo, b); err != nil {
		return err
	}
	gotSize := false
	for {
		typ, data, err := c.readOptReply(nbdOptGo)
		if err != nil {
			return err
		}
		switch {
		case typ == nbdRepAck:
			if !gotSize {
				return c.protoErr("NBD_OPT_GO acknowledged without NBD_INFO_EXPORT")
			}
			return nil
		case typ == nbdRepInfo:
			if err := c.info(data, &gotSize); err != nil {
				return err
			}
		case typ&nbdRepErrBit != 0:
			return fmt.Errorf("server refused export %q (reply %#x: %q): check the export name in the URI", c.addr.export, typ, printable(data))
		default:
			return c.protoErr("unexpected reply type %#x to NBD_OPT_GO", typ)
		}
	}
}

func (c *nbdClient) info(data []byte, gotSize *bool) error {
	if len(data) < 2 {
		return c.protoErr("empty NBD_REP_INFO")
	}
	switch binary.BigEndian.Uint16(data) {
	case nbdInfoExport:
		if len(data) != 12 {
			return c.protoErr("NBD_INFO_EXPORT of %d bytes, want 12", len(data))
		}
		size := binary.BigEndian.Uint64(data[2:])
		if size > MaxDiskSize {
			return c.protoErr("export size %d is negative or beyond %d bytes", int64(size), int64(MaxDiskSize))
		}
		c.size, c.tflags, *gotSize = int64(size), binary.BigEndian.Uint16(data[10:]), true
	case nbdInfoBlockSize:
		if len(data) != 14 {
			return c.protoErr("NBD_INFO_BLOCK_SIZE of %d bytes, want 14", len(data))
		}
	}
	return nil
}

// printable trims a server message for an error string.
func printable(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
