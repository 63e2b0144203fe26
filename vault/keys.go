package vault

// Catalog keys. Every catalog key starts with "v/"; blockstore owns every
// other prefix of the vault's Pebble database. Values are JSON objects with a
// "v" record-version field (see FORMAT.md).
//
//	v/format                    catalog format marker {"v":1}
//	v/meta                      vaultRecord: name, created, layout, target specs
//	v/set                       Settings
//	v/pol/<policy>              Policy
//	v/it/<item>                 Item
//	v/pt/<item>/<point-id>      Point (point ids are RFC 3339 UTC seconds, so keys sort by time)
//	v/job/<job-id>              Job (job ids sort by creation)
//	v/ji/<item>/<job-id>        empty: index of jobs by item
//	v/au/<audit-id>             AuditRecord
//	v/ap/<request-id>           Approval
const (
	prefCatalog = "v/"
	keyFormat   = "v/format"
	keyMeta     = "v/meta"
	keySettings = "v/set"
	prefPolicy  = "v/pol/"
	prefItem    = "v/it/"
	prefPoint   = "v/pt/"
	prefJob     = "v/job/"
	prefJobItem = "v/ji/"
	prefAudit   = "v/au/"
	prefApprove = "v/ap/"
)

// catalogVersion is the value of v/format this code writes and reads.
const catalogVersion = 1

func policyKey(name string) string     { return prefPolicy + name }
func itemKey(name string) string       { return prefItem + name }
func pointPrefix(item string) string   { return prefPoint + item + "/" }
func pointKey(item, id string) string  { return pointPrefix(item) + id }
func jobKey(id string) string          { return prefJob + id }
func jobItemPrefix(item string) string { return prefJobItem + item + "/" }
func jobItemKey(item, id string) string {
	return jobItemPrefix(item) + id
}
func auditKey(id string) string   { return prefAudit + id }
func approveKey(id string) string { return prefApprove + id }
