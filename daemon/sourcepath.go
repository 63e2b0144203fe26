package daemon

import (
	"errors"
	"strings"

	"github.com/rewind-backup/rewind/pathsafe"
)

// checkSourcePath resolves a share directory or disk file again before a
// backup reads it as root, with the rule restore targets follow (pathsafe,
// systemd's chase()): a symlink on the way is followed only when root owns
// it. An item's path is checked when it is added, but a user who owns a
// directory on that path could swap a component for a symlink to a file or
// directory of root's later; the backup then refuses, naming the link,
// instead of reading it. A path that is missing is left to the capture
// itself, which names it. Non-path sources (NBD URLs, "-") are not checked.
func checkSourcePath(p string) error {
	p = strings.TrimPrefix(p, "qcow2:")
	if !strings.HasPrefix(p, "/") {
		return nil
	}
	tg, err := pathsafe.Resolve(p, pathsafe.Options{AllowMissing: true})
	if err != nil {
		var unsafe *pathsafe.UnsafeLinkError
		if errors.As(err, &unsafe) {
			return Errf(CodeForbidden, "source %s: %v: refusing to back it up (a backup runs as root); "+
				"replace the link with the real path, or re-add the item with \"rewind item add\"", p, err)
		}
		return nil
	}
	tg.Close()
	return nil
}
