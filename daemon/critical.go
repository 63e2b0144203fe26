package daemon

import (
	"fmt"
	"slices"
	"strings"
)

// critical names one kind of critical operation: on a vault with multi-user
// approval on, it waits for a security admin's approval (API.md "Critical
// operations" lists them; TestCriticalOpsDocumented keeps the two in step).
type critical string

// The critical operations. Every destructive operation added to the daemon
// adds its name here and passes it to Daemon.guard before acting.
const (
	critMUAOff            critical = "multi-user-approval-off"
	critImmutabilityOff   critical = "immutability-off"
	critSoftDeleteShorten critical = "soft-delete-shorten"
	critRetentionShorten  critical = "retention-shorten"
	critStopDelete        critical = "stop-delete-data"
	critPassphraseChange  critical = "passphrase-change"
	critRestoreOverSource critical = "restore-over-source"
)

// criticalOps is the one list: every critical operation and what it is.
var criticalOps = map[critical]string{
	critMUAOff:            "turn multi-user approval off",
	critImmutabilityOff:   "turn immutability from on to off",
	critSoftDeleteShorten: "shorten the soft-delete period, or disable soft delete",
	critRetentionShorten:  "shorten a policy's retention",
	critStopDelete:        "stop protection of an item and delete its data",
	critPassphraseChange:  "change a vault's passphrase",
	critRestoreOverSource: "restore over an item's own source (disk --force onto the source, share --original --conflict overwrite)",
}

// describe is the sentence naming ops, e.g. "turn multi-user approval off
// and shorten a policy's retention".
func describe(ops []critical) string {
	parts := make([]string, len(ops))
	for i, op := range ops {
		what, ok := criticalOps[op]
		if !ok {
			panic(fmt.Sprintf("critical operation %q is not registered in criticalOps", op))
		}
		parts[i] = what
	}
	return strings.Join(parts, " and ")
}

// opNames is ops as stored in an approval request ("a+b").
func opNames(ops []critical) string {
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = string(op)
	}
	slices.Sort(names)
	return strings.Join(names, "+")
}
