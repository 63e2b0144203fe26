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
// before it. SecurityAdmin is apart from that order: it reads metadata (what
// a reader reads, so it never approves blind) and approves critical
// operations, and nothing else. API.md's "Access model" is the table.
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
		if r.includes(need) {
			return true
		}
	}
	return false
}

// CanAny reports whether p may act as any of needs.
func (p Principal) CanAny(needs []Role) bool {
	for _, n := range needs {
		if p.Can(n) {
			return true
		}
	}
	return false
}

// includes reports whether holding r grants need: the same role, a higher
// ordered role, or a security-admin reading.
func (r Role) includes(need Role) bool {
	switch {
	case r == need:
		return true
	case r == RoleSecurityAdmin:
		return need == RoleReader
	}
	return roleRank[need] > 0 && roleRank[r] >= roleRank[need]
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// peerPrincipal decides a unix-socket peer's principal from SO_PEERCRED:
// root is admin (security-admin only when security_admins names it, see
// withSecurityAdmin); any other uid gets the roles
// socket_roles gives its user name or one of its groups ("@group"), and no
// role at all when none matches (socket_group only decides who may connect).
func peerPrincipal(c net.Conn, roles map[string]string) *Principal {
	cred := peerCred(c)
	if cred == nil {
		return nil
	}
	p := &Principal{Name: userName(cred.Uid), Roles: []Role{}, Root: cred.Uid == 0}
	if cred.Uid == 0 {
		p.Roles = []Role{RoleAdmin}
		return p
	}
	p.Roles = socketRoles(cred.Uid, cred.Gid, roles)
	return p
}

func peerCred(c net.Conn) *unix.Ucred {
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
	if err != nil {
		return nil
	}
	return cred
}

// socketRoles is every role socket_roles grants uid by user name or by one
// of its groups (primary gid and supplementary groups), looked up now.
func socketRoles(uid, gid uint32, roles map[string]string) []Role {
	var out []Role
	name, ids := "", []string{strconv.Itoa(int(gid))}
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		name = u.Username
		more, _ := u.GroupIds()
		ids = append(ids, more...)
	}
	groups := map[string]bool{}
	for _, id := range ids {
		if g, err := user.LookupGroupId(id); err == nil {
			groups[g.Name] = true
		}
	}
	for who, role := range roles {
		g, isGroup := strings.CutPrefix(who, "@")
		if (isGroup && groups[g]) || (!isGroup && name != "" && who == name) {
			out = append(out, Role(role))
		}
	}
	return out
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return "user:" + u.Username
	}
	return fmt.Sprintf("uid:%d", uid)
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
