package daemon

import (
	"errors"
	"net/http"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/vault"
)

// routes registers every endpoint with the least role that may call it.
// API.md's "Access model" table gives the status each role gets from each
// route; TestRoutesInAccessModel keeps this list and that table equal, and
// tests/e2e_access_matrix_test.go calls every row with every role.
func (d *Daemon) routes() {
	d.route("GET /v1/status", RoleReader, d.hStatus)
	d.route("POST /v1/log-level", RoleAdmin, d.hLogLevel)

	d.route("GET /v1/vaults", RoleReader, d.hVaults)
	d.route("POST /v1/vaults", RoleAdmin, d.hCreateVault)
	d.route("POST /v1/vaults/attach", RoleAdmin, d.hAttach)
	d.route("GET /v1/vaults/{vault}", RoleReader, d.hVault)
	d.route("PATCH /v1/vaults/{vault}", RoleAdmin, d.hVaultSettings)
	d.route("POST /v1/vaults/{vault}/unlock", RoleAdmin, d.hUnlock)
	d.route("POST /v1/vaults/{vault}/key-export", RoleAdmin, d.hKeyExport)
	d.route("GET /v1/vaults/{vault}/usage", RoleReader, d.hUsage)
	d.route("POST /v1/vaults/{vault}/verify", RoleAdmin, d.hMaintenance(vault.JobVerify))
	d.route("POST /v1/vaults/{vault}/gc", RoleAdmin, d.hMaintenance(vault.JobGC))
	d.route("POST /v1/vaults/{vault}/repair", RoleAdmin, d.hMaintenance(vault.JobRepair))

	d.route("POST /v1/vaults/{vault}/benchmark", RoleAdmin, d.hBenchmark)

	d.route("GET /v1/vaults/{vault}/policies", RoleReader, d.hPolicies)
	d.route("POST /v1/vaults/{vault}/policies", RoleAdmin, d.hCreatePolicy)
	d.route("GET /v1/vaults/{vault}/policies/{policy}", RoleReader, d.hPolicy)
	d.route("PATCH /v1/vaults/{vault}/policies/{policy}", RoleAdmin, d.hUpdatePolicy)
	d.route("DELETE /v1/vaults/{vault}/policies/{policy}", RoleAdmin, d.hDeletePolicy)

	d.route("POST /v1/vaults/{vault}/items", RoleBackupOperator, d.hAddItem)
	d.route("GET /v1/items", RoleReader, d.hItems)
	d.route("GET /v1/items/{item}", RoleReader, d.hItem)
	d.route("GET /v1/items/{item}/points", RoleReader, d.hPoints)
	d.route("POST /v1/items/{item}/backup", RoleBackupOperator, d.hBackup)
	d.route("POST /v1/items/{item}/restore", RoleRestoreOperator, d.hRestore)
	d.route("PATCH /v1/items/{item}", RoleAdmin, d.hUpdateItem)
	d.route("POST /v1/items/{item}/stop", RoleAdmin, d.hStop)
	d.route("POST /v1/items/{item}/resume", RoleAdmin, d.hResume)
	d.route("POST /v1/items/{item}/undelete", RoleAdmin, d.hUndelete)

	d.route("POST /v1/vaults/{vault}/seed-import", RoleAdmin, d.hSeedImport)

	d.route("GET /v1/jobs", RoleReader, d.hJobs)
	d.route("GET /v1/jobs/{id}", RoleReader, d.hJob)
	d.route("POST /v1/jobs/{id}/cancel", RoleBackupOperator, d.hCancel)

	d.route("GET /v1/mounts", RoleReader, d.hMounts)
	d.route("POST /v1/mounts", RoleRestoreOperator, d.hMount)
	d.route("DELETE /v1/mounts", RoleRestoreOperator, d.hUnmount)

	d.securityRoutes()
}

// securityRoutes are the token and approval endpoints (API.md "Approvals
// and security admins"): admins manage the tokens of the four ordered
// roles, security admins the security-admin tokens and the approvals.
func (d *Daemon) securityRoutes() {
	adminOrSA := []Role{RoleAdmin, RoleSecurityAdmin}
	d.routeAny("GET /v1/tokens", adminOrSA, d.hTokens)
	d.routeAny("POST /v1/tokens", adminOrSA, d.hCreateToken)
	d.routeAny("DELETE /v1/tokens/{id}", adminOrSA, d.hRevokeToken)
	d.routeAny("GET /v1/approvals", adminOrSA, d.hApprovals)
	d.routeAny("GET /v1/approvals/{id}", adminOrSA, d.hApproval)
	d.route("POST /v1/approvals/{id}/approve", RoleSecurityAdmin, d.hApprove)
	d.route("POST /v1/approvals/{id}/reject", RoleSecurityAdmin, d.hReject)
	d.route("POST /v1/vaults/{vault}/passphrase", RoleAdmin, d.hChangePassphrase)
}

// apiError turns any error into the API's error body: catalog refusals keep
// their sentence and get their code; anything else is internal.
func (d *Daemon) apiError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ve *vault.Error
	msg := err.Error()
	if errors.As(err, &ve) {
		msg = ve.Error()
	}
	for _, m := range []struct {
		kind error
		code Code
	}{
		{blockstore.ErrWrongPassphrase, CodeWrongPassphrase}, {vault.ErrNotFound, CodeNotFound}, {vault.ErrExists, CodeExists}, {vault.ErrInvalid, CodeInvalid},
		{vault.ErrLocked, CodeLocked}, {blockstore.ErrLocked, CodeLocked}, {vault.ErrImmutable, CodeRefused},
		{vault.ErrConflict, CodeConflict},
	} {
		if errors.Is(err, m.kind) {
			return &Error{Code: m.code, Message: msg}
		}
	}
	return &Error{Code: CodeInternal, Message: msg}
}

func lockedError(name string) *Error {
	return Errf(CodeLocked, "vault %q is locked: run \"rewind vault unlock %s\"", name, name)
}

// vaultOf finds the vault named in the path.
func (d *Daemon) vaultOf(r *http.Request) (*vault.Vault, error) {
	return d.scopedVault(r.Context(), r.PathValue("vault"))
}

func principalName(r *http.Request) string {
	if p := principalFrom(r.Context()); p != nil {
		return p.Name
	}
	return ""
}
