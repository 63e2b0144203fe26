package vmdisk

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// nbdRequestTimeout bounds one request and its reply, so a server that
// stops answering fails the job instead of hanging it.
const nbdRequestTimeout = 5 * time.Minute

// nbdClient is one NBD connection in transmission phase. Requests are
// serialised; after any protocol or I/O error the client refuses further use.
type nbdClient struct {
	conn       net.Conn
	br         *bufio.Reader
	addr       nbdAddr
	structured bool
	contexts   map[string]uint32
	size       int64
	tflags     uint16

	mu     sync.Mutex
	handle atomic.Uint64
	broken error
}

func (c *nbdClient) protoErr(format string, args ...any) error {
	return fmt.Errorf("NBD server %s: %w: %s; the server is broken, hostile or not an NBD server",
		c.addr, ErrNBDProtocol, fmt.Sprintf(format, args...))
}

func (c *nbdClient) ioErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("NBD server %s closed the connection during %s: %w", c.addr, what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("NBD server %s: %s: %w", c.addr, what, err)
}

// Close sends NBD_CMD_DISC and closes the connection.
func (c *nbdClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == nil {
		c.conn.SetDeadline(time.Now().Add(5 * time.Second))
		c.conn.Write(c.header(nbdCmdDisc, 0, 0, 0))
		c.broken = errors.New("NBD connection closed")
	}
	return c.conn.Close()
}

func (c *nbdClient) header(cmd, flags uint16, off int64, n uint32) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 28), nbdRequestMagic)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, cmd)
	b = binary.BigEndian.AppendUint64(b, c.handle.Add(1))
	b = binary.BigEndian.AppendUint64(b, uint64(off))
	return binary.BigEndian.AppendUint32(b, n)
}

// call sends one request and hands its reply to rd; the connection is
// marked broken on any failure, and ctx cancellation interrupts the I/O.
func (c *nbdClient) call(ctx context.Context, what string, req []byte, rd func(*replyReader) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return fmt.Errorf("NBD server %s: connection unusable after an earlier error: %w", c.addr, c.broken)
	}
	c.conn.SetDeadline(time.Now().Add(nbdRequestTimeout))
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err := c.write(req)
	if err == nil {
		err = rd(&replyReader{c: c, handle: binary.BigEndian.Uint64(req[8:]), what: what})
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%s: %w", what, ctx.Err())
		}
		c.broken = err
		return err
	}
	return nil
}

func (c *nbdClient) checkRange(off int64, n int) error {
	if off < 0 || n < 0 || off+int64(n) > c.size || n > 64<<20 {
		return fmt.Errorf("NBD request %d+%d outside export of %d bytes", off, n, c.size)
	}
	return nil
}

// Read fills p from off, accepting data and hole chunks that exactly cover it.
func (c *nbdClient) Read(ctx context.Context, p []byte, off int64) error {
	if err := c.checkRange(off, len(p)); err != nil {
		return err
	}
	what := fmt.Sprintf("read at %d (+%d)", off, len(p))
	return c.call(ctx, what, c.header(nbdCmdRead, 0, off, uint32(len(p))), func(r *replyReader) error {
		return r.read(p, off)
	})
}

// Write writes p at off.
func (c *nbdClient) Write(ctx context.Context, p []byte, off int64) error {
	if err := c.checkRange(off, len(p)); err != nil {
		return err
	}
	what := fmt.Sprintf("write at %d (+%d)", off, len(p))
	req := append(c.header(nbdCmdWrite, 0, off, uint32(len(p))), p...)
	return c.call(ctx, what, req, func(r *replyReader) error { return r.ack() })
}

// WriteZeroes zeroes [off, off+n) (the server may punch a hole).
func (c *nbdClient) WriteZeroes(ctx context.Context, off int64, n int) error {
	if err := c.checkRange(off, n); err != nil {
		return err
	}
	what := fmt.Sprintf("write zeroes at %d (+%d)", off, n)
	return c.call(ctx, what, c.header(nbdCmdWriteZeroes, 0, off, uint32(n)), func(r *replyReader) error { return r.ack() })
}

// Flush asks the server to make written data durable.
func (c *nbdClient) Flush(ctx context.Context) error {
	if c.tflags&nbdTFlagSendFlush == 0 {
		return nil
	}
	return c.call(ctx, "flush", c.header(nbdCmdFlush, 0, 0, 0), func(r *replyReader) error { return r.ack() })
}

// statusExtent is one block-status descriptor.
type statusExtent struct {
	extent
	flags uint32
}

// BlockStatus returns, for meta context name, descriptors starting at off and
// covering at least some of [off, off+n), clipped to it.
func (c *nbdClient) BlockStatus(ctx context.Context, name string, off int64, n uint32) ([]statusExtent, error) {
	id, ok := c.contexts[name]
	if !ok {
		return nil, fmt.Errorf("NBD server %s did not grant meta context %q", c.addr, name)
	}
	if err := c.checkRange(off, 0); err != nil || off+int64(n) > c.size {
		return nil, fmt.Errorf("NBD block status %d+%d outside export of %d bytes", off, n, c.size)
	}
	var out []statusExtent
	what := fmt.Sprintf("block status at %d (+%d)", off, n)
	err := c.call(ctx, what, c.header(nbdCmdBlockStatus, 0, off, n), func(r *replyReader) error {
		var err error
		out, err = r.blockStatus(id, off, n)
		return err
	})
	return out, err
}
