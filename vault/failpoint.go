package vault

import (
	"os"
	"syscall"
)

// FailpointEnv names the environment variable that arms one failpoint by
// name. It exists for the end-to-end crash tests (tests/e2e_create_crash_test.go),
// which start the real daemon with it set; unset (as always in production) every
// failpoint is a no-op costing one Getenv. The names are listed in FORMAT.md
// ("Write order").
const FailpointEnv = "REWIND_FAILPOINT"

// failpoint kills the process with SIGKILL, as a power cut would, when
// REWIND_FAILPOINT equals name; otherwise it does nothing.
func failpoint(name string) {
	if os.Getenv(FailpointEnv) != name {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL is not delivered synchronously; never return into the next step
}
