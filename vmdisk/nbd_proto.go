package vmdisk

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NBD protocol constants (the NBD protocol document, fixed newstyle).
const (
	nbdMagic         = 0x4e42444d41474943 // "NBDMAGIC"
	nbdOptMagic      = 0x49484156454F5054 // "IHAVEOPT"
	nbdOldMagic      = 0x00420281861253
	nbdRepMagic      = 0x3e889045565a9
	nbdRequestMagic  = 0x25609513
	nbdSimpleMagic   = 0x67446698
	nbdStructMagic   = 0x668e33ef
	nbdFlagFixedNew  = 1 << 0
	nbdFlagNoZeroes  = 1 << 1
	nbdOptGo         = 7
	nbdOptStructured = 8
	nbdOptSetMeta    = 10
	nbdRepAck        = 1
	nbdRepInfo       = 3
	nbdRepMetaCtx    = 4
	nbdRepErrBit     = 1 << 31
	nbdInfoExport    = 0
	nbdInfoBlockSize = 3

	nbdTFlagReadOnly    = 1 << 1
	nbdTFlagSendFlush   = 1 << 2
	nbdTFlagWriteZeroes = 1 << 6

	nbdCmdRead        = 0
	nbdCmdWrite       = 1
	nbdCmdDisc        = 2
	nbdCmdFlush       = 3
	nbdCmdWriteZeroes = 6
	nbdCmdBlockStatus = 7

	nbdReplyFlagDone   = 1
	nbdReplyNone       = 0
	nbdReplyOffsetData = 1
	nbdReplyOffsetHole = 2
	nbdReplyBlockStat  = 5
	nbdReplyErrBit     = 1 << 15

	nbdStateHole  = 1 // base:allocation: not allocated
	nbdStateZero  = 2 // base:allocation: reads as zeros
	nbdStateDirty = 1 // qemu:dirty-bitmap: changed

	nbdMaxOptReply  = 64 << 10
	nbdMaxStatusLen = 4 + 8*(1<<20)
	nbdMaxErrMsg    = 4096

	metaAllocation = "base:allocation"
	metaBitmapPfx  = "qemu:dirty-bitmap:"
)

// ErrNBDProtocol marks a server that broke the NBD protocol (a malformed,
// short, oversized or out-of-range reply). errors.Is works on every such error.
var ErrNBDProtocol = errors.New("NBD protocol violation")

// nbdAddr is a parsed nbd:// or nbd+unix:// URI.
type nbdAddr struct {
	network, addr, export string
}

func (a nbdAddr) String() string { return fmt.Sprintf("%s:%s export %q", a.network, a.addr, a.export) }

// parseNBDURI accepts nbd://host[:port]/name and nbd+unix:///name?socket=PATH.
func parseNBDURI(spec string) (nbdAddr, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nbdAddr{}, fmt.Errorf("NBD URI %q: %w", spec, err)
	}
	a := nbdAddr{export: strings.TrimPrefix(u.Path, "/")}
	switch u.Scheme {
	case "nbd":
		a.network, a.addr = "tcp", u.Host
		if u.Port() == "" {
			a.addr = u.Host + ":10809"
		}
		if u.Hostname() == "" {
			return a, fmt.Errorf("NBD URI %q has no host: want nbd://HOST[:PORT]/EXPORT", spec)
		}
	case "nbd+unix":
		a.network, a.addr = "unix", u.Query().Get("socket")
		if a.addr == "" {
			return a, fmt.Errorf("NBD URI %q has no socket: want nbd+unix:///EXPORT?socket=PATH", spec)
		}
	default:
		return a, fmt.Errorf("NBD URI %q: scheme %q not supported (nbd or nbd+unix; TLS is not)", spec, u.Scheme)
	}
	return a, nil
}

// nbdErrno names the errno values the protocol defines.
func nbdErrno(e uint32) string {
	switch e {
	case 1:
		return "EPERM"
	case 5:
		return "EIO"
	case 12:
		return "ENOMEM"
	case 22:
		return "EINVAL"
	case 28:
		return "ENOSPC"
	case 75:
		return "EOVERFLOW"
	case 95:
		return "ENOTSUP"
	case 108:
		return "ESHUTDOWN"
	}
	return fmt.Sprintf("error %d", e)
}
