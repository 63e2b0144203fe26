package vmdisk

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// qemuIO runs one qemu-io command on a qcow2 image.
func qemuIO(ctx context.Context, path, command string) error {
	out, err := exec.CommandContext(ctx, "qemu-io", "-f", "qcow2", "-c", command, path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-io -c %q %s: %w: %s", command, path, err, strings.TrimSpace(string(out)))
	}
	return nil
}
