package daemon

import (
	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
)

// chainToPoint and chainFromPoint copy a qcow2 backing chain between the
// point record and vmdisk (which do not import each other).
func chainToPoint(c vmdisk.Chain) []vault.ChainFile {
	if c == nil {
		return nil
	}
	out := make([]vault.ChainFile, len(c))
	for i, f := range c {
		out[i] = vault.ChainFile(f)
	}
	return out
}

func chainFromPoint(c []vault.ChainFile) vmdisk.Chain {
	if c == nil {
		return nil
	}
	out := make(vmdisk.Chain, len(c))
	for i, f := range c {
		out[i] = vmdisk.ChainFile(f)
	}
	return out
}
