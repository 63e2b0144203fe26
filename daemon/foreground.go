package daemon

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/rewind-backup/rewind/fsmount"
	"github.com/rewind-backup/rewind/vault"
)

// MountForeground serves a mount from the CLI's own process, for a host
// where no daemon runs: it opens the vaults in dataDir itself (so the daemon
// must not be running), unlocks the one named, mounts, and unmounts when ctx
// ends.
func MountForeground(ctx context.Context, dataDir string, passphrase []byte, req MountRequest, log *slog.Logger) error {
	lock, err := lockDataDir(dataDir) // a running daemon holds it: refused, naming its pid
	if err != nil {
		return fmt.Errorf("%w (use \"rewind mount\" without --foreground while the daemon runs)", err)
	}
	defer lock.Close()
	host, err := vault.OpenHost(ctx, dataDir, vault.HostOptions{Logger: log, OpenTarget: openTarget})
	if err != nil {
		return fmt.Errorf("open the vaults in %s (is a daemon running? then use \"rewind mount\" without --foreground): %w", dataDir, err)
	}
	defer host.Close()
	name := req.Vault
	if name == "" {
		name = "default"
	}
	v, err := host.Vault(name)
	if err != nil {
		return err
	}
	if err := v.Unlock(passphrase); err != nil {
		return err
	}
	m, err := fsmount.Mount(ctx, req.Mountpoint, catalogView{v}, v.Store(), fsmount.Options{
		AllowOther: req.AllowOther, Item: req.Item, Point: req.Point, Logger: log})
	if err != nil {
		return fmt.Errorf("mount %s: %w", req.Mountpoint, err)
	}
	log.Info("mounted in the foreground; Ctrl-C unmounts", "mountpoint", req.Mountpoint, "vault", name)
	<-ctx.Done()
	return m.Unmount()
}
