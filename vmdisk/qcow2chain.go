package vmdisk

import (
	"fmt"
	"strings"
)

// readChain reads and checks the backing chain of the session's qcow2
// image and compares it with the previous point's.
func (s *session) readChain(prev *Prev, opts BackupOptions) error {
	chain, err := ReadChain(strings.TrimPrefix(s.spec, "qcow2:"), opts.SourceRoots)
	if err != nil {
		return fmt.Errorf("backup of %s refused: %w", s.spec, err)
	}
	s.chain = chain
	switch {
	case prev == nil:
	case prev.Chain == nil:
		s.chainChange = "the previous point recorded no backing chain"
	default:
		s.chainChange = chain.ChangedFrom(prev.Chain)
	}
	return nil
}

// recheckChain reads the headers again once qemu-nbd has opened the
// chain: a header rewritten between the check and the open (naming another
// file) fails the backup instead of being read.
func (s *session) recheckChain(opts BackupOptions) error {
	now, err := ReadChain(strings.TrimPrefix(s.spec, "qcow2:"), opts.SourceRoots)
	if err != nil {
		return fmt.Errorf("backup of %s refused: %w", s.spec, err)
	}
	if why := now.ChangedFrom(s.chain); why != "" {
		return fmt.Errorf("backup of %s refused: the backing chain changed while qemu-nbd opened it (%s)", s.spec, why)
	}
	return nil
}
