package daemon

import (
	"net/http"
	"slices"
)

// Token rules (API.md "Approvals and security admins"):
//   - admins create and revoke tokens of every role but security-admin;
//   - security admins create and revoke security-admin tokens only;
//   - root on the unix socket may create the first security-admin token,
//     only while none exists;
//   - a token scoped to vaults creates only tokens scoped within them.

func (d *Daemon) hTokens(r *http.Request) (any, error) {
	p := principalFrom(r.Context())
	out := []TokenInfo{}
	for _, t := range d.tokens.list() {
		if withinScope(p, t.Vaults) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (d *Daemon) hCreateToken(r *http.Request) (any, error) {
	var req TokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	role, err := ParseRole(req.Role)
	if err != nil {
		return nil, err
	}
	p := principalFrom(r.Context())
	bootstrap, err := d.mayManage(p, role, "create")
	if err != nil {
		return nil, err
	}
	vaults, err := d.tokenScope(p, req.Vaults)
	if err != nil {
		return nil, err
	}
	spec := TokenInfo{Role: role, By: p.Name, Lineage: p.Lineage, Vaults: vaults}
	t, secret, err := d.tokens.create(spec, d.now(), bootstrap)
	if err != nil {
		return nil, err
	}
	d.log.Info("token created", "token", t.ID, "role", role, "vaults", vaults, "by", p.Name)
	return TokenCreated{TokenInfo: t, Secret: secret}, nil
}

func (d *Daemon) hRevokeToken(r *http.Request) (any, error) {
	p := principalFrom(r.Context())
	t, err := d.tokens.get(r.PathValue("id"))
	if err != nil || !withinScope(p, t.Vaults) {
		return nil, Errf(CodeNotFound, "token %q not found: see \"rewind token list\"", r.PathValue("id"))
	}
	if _, err := d.mayManage(p, t.Role, "revoke"); err != nil {
		return nil, err
	}
	if err := d.tokens.revoke(t.ID); err != nil {
		return nil, err
	}
	d.log.Info("token revoked", "token", t.ID, "role", t.Role, "by", p.Name)
	return map[string]string{"revoked": t.ID}, nil
}

// mayManage decides whether p may create or revoke (verb) a token of role;
// bootstrap says the creation is allowed only as the first of its role.
func (d *Daemon) mayManage(p *Principal, role Role, verb string) (bootstrap bool, err error) {
	isSA, isAdmin := p.Can(RoleSecurityAdmin), p.Can(RoleAdmin)
	switch {
	case role == RoleSecurityAdmin && isSA:
		return false, nil
	case role == RoleSecurityAdmin && p.Root && verb == "create" && !d.tokens.hasRole(RoleSecurityAdmin):
		return true, nil // the first security-admin token; create re-checks under its lock
	case role == RoleSecurityAdmin:
		return false, Errf(CodeForbidden, "%s may not %s security-admin tokens: only a security admin may (root on the unix socket creates the first one, while none exists)", p.Name, verb)
	case isAdmin:
		return false, nil
	}
	return false, Errf(CodeForbidden, "%s may not %s %s tokens: a security admin manages security-admin tokens only; admins manage the others", p.Name, verb, role)
}

// tokenScope validates the vaults a new token is confined to: each must
// exist and lie within the creator's own scope; a scoped creator cannot make
// an unscoped token.
func (d *Daemon) tokenScope(p *Principal, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if n == "" || slices.Contains(out, n) {
			continue
		}
		if !p.InScope(n) {
			return nil, Errf(CodeForbidden, "%s is confined to vaults %v and cannot give access to vault %q", p.Name, p.Vaults, n)
		}
		if _, err := d.host.Vault(n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(out) == 0 && len(p.Vaults) > 0 {
		return nil, Errf(CodeForbidden, "%s is confined to vaults %v: pass --vault with some of them", p.Name, p.Vaults)
	}
	slices.Sort(out)
	return out, nil
}

// withinScope reports whether a thing confined to vaults (none: every vault)
// is visible to p.
func withinScope(p *Principal, vaults []string) bool {
	if len(p.Vaults) == 0 {
		return true
	}
	if len(vaults) == 0 {
		return false
	}
	for _, v := range vaults {
		if !p.InScope(v) {
			return false
		}
	}
	return true
}
