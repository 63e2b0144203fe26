package daemon

import (
	"context"
	"fmt"
	"net"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Role is what a principal may do. Roles are ordered: each includes the ones
// before it; SecurityAdmin is separate and only approves critical operations.
type Role string

// Roles (API.md).
const (
	RoleReader          Role = "reader"
	RoleBackupOperator  Role = "backup-operator"
	RoleRestoreOperator Role = "restore-operator"
	RoleAdmin           Role = "admin"
	RoleSecurityAdmin   Role = "security-admin"
)

var roleRank = map[Role]int{RoleReader: 1, RoleBackupOperator: 2, RoleRestoreOperator: 3, RoleAdmin: 4}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := roleRank[r]; ok || r == RoleSecurityAdmin {
		return r, nil
	}
	return "", Errf(CodeInvalid, "role %q: want reader, backup-operator, restore-operator, admin or security-admin", s)
}

// Principal is who is calling: a local user on the socket or a token over TCP.
type Principal struct {
	Name  string
	Roles []Role
	// Root is true for uid 0 on the unix socket (it may bootstrap the first
	// security-admin token).
	Root bool
	// Lineage is who created this principal, nearest first: a token's
	// creator, that creator's creator, … (empty for socket peers).
	Lineage []string
	// Vaults confines a token to these vaults; empty means every vault.
	Vaults []string
}

// InScope reports whether p may touch vault name at all.
func (p Principal) InScope(name string) bool {
	return len(p.Vaults) == 0 || slices.Contains(p.Vaults, name)
}

// Can reports whether p holds need (or a role that includes it).
func (p Principal) Can(need Role) bool {
	for _, r := range p.Roles {
		if r == need || (roleRank[r] >= roleRank[need] && roleRank[need] > 0) {
			return true
		}
	}
	return false
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// peerPrincipal decides a unix-socket peer's principal from SO_PEERCRED: root
// and members of the socket group are admins; anyone else gets nothing (the
// socket's 0660 mode keeps them out anyway). Security admins are added by
// withSecurityAdmin, from the config.
func peerPrincipal(c net.Conn, group string) *Principal {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	var cred *unix.Ucred
	_ = raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil || cred == nil {
		return nil
	}
	p := &Principal{Name: userName(cred.Uid), Root: cred.Uid == 0}
	if cred.Uid == 0 || inGroup(cred.Uid, cred.Gid, group) {
		p.Roles = []Role{RoleAdmin}
	}
	return p
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return "user:" + u.Username
	}
	return fmt.Sprintf("uid:%d", uid)
}

func inGroup(uid, gid uint32, group string) bool {
	g, err := user.LookupGroup(group)
	if err != nil {
		return false
	}
	if g.Gid == strconv.Itoa(int(gid)) {
		return true
	}
	u, err := user.LookupId(strconv.Itoa(int(uid)))
	if err != nil {
		return false
	}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if id == g.Gid {
			return true
		}
	}
	return false
}

// withSecurityAdmin adds the security-admin role to a socket peer whose unix
// user the config names in security_admins.
func withSecurityAdmin(p *Principal, names []string) *Principal {
	if p == nil {
		return nil
	}
	if name, ok := strings.CutPrefix(p.Name, "user:"); ok && slices.Contains(names, name) {
		p.Roles = append(p.Roles, RoleSecurityAdmin)
	}
	return p
}
