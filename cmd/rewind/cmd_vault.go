package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var passphraseFlag = &cli.StringFlag{Name: "passphrase-file", Usage: "read the vault passphrase from this file (else REWIND_PASSPHRASE, else a prompt)"}

func vaultCommand() *cli.Command {
	return &cli.Command{
		Name:  "vault",
		Usage: "create, list, unlock and configure vaults",
		Subcommands: []*cli.Command{
			{Name: "create", ArgsUsage: "NAME", Usage: "create a vault", Flags: []cli.Flag{
				&cli.StringFlag{Name: "shards", Usage: "comma-separated shard targets (directories), one per shard"},
				&cli.IntFlag{Name: "data-shards", Value: 4, Usage: "data shards per stripe"}, &cli.IntFlag{Name: "parity-shards", Value: 2, Usage: "parity shards per stripe (shards that may be lost)"},
				&cli.BoolFlag{Name: "allow-unsafe-placement", Usage: "allow shard targets on one file system (a single disk loss loses the vault)"}, passphraseFlag,
			}, Action: call(vaultCreate)},
			{Name: "attach", ArgsUsage: "NAME", Usage: "rebuild a vault on this host from its shard targets (after losing the old host)", Flags: []cli.Flag{
				&cli.StringFlag{Name: "shards", Required: true, Usage: "every shard target of the vault, comma-separated, in the original order"}, passphraseFlag, keyFileFlag,
				&cli.BoolFlag{Name: "takeover", Usage: "attach even while another host holds the vault's owner lease; that host is fenced and stops writing to it"},
			}, Action: call(vaultAttach)},
			{Name: "list", Usage: "list vaults", Flags: []cli.Flag{jsonFlag}, Action: call(vaultList)},
			{Name: "show", ArgsUsage: "NAME", Usage: "show a vault: shards, settings, space", Flags: []cli.Flag{jsonFlag}, Action: call(vaultShow)},
			{Name: "unlock", ArgsUsage: "NAME", Usage: "unlock a vault with its passphrase", Flags: []cli.Flag{passphraseFlag, keyFileFlag}, Action: call(vaultUnlock)},
			{Name: "set", ArgsUsage: "NAME", Usage: "change a vault's settings", Flags: []cli.Flag{
				&cli.IntFlag{Name: "soft-delete-days", Usage: "days deleted points stay recoverable (undelete) before purge"},
				&cli.StringFlag{Name: "immutability", Usage: "off, on or locked (locked is irreversible)"},
				&cli.BoolFlag{Name: "multi-user-approval", Usage: "hold critical operations until a security admin approves"},
				&cli.StringFlag{Name: "work-hours-rate", Usage: "bandwidth in work hours, e.g. 50MB/s, 800Kbit/s or unlimited"},
				&cli.StringFlag{Name: "off-hours-rate", Usage: "bandwidth outside work hours"},
				&cli.StringFlag{Name: "work-hours", Usage: "the work-hours window, e.g. mon-fri@08:00-18:00"},
				&cli.StringFlag{Name: "tz", Usage: "IANA time zone of the work-hours window (default UTC)"},
			}, Action: call(vaultSet)},
			{Name: "key", Usage: "the vault key", Subcommands: []*cli.Command{{Name: "export", ArgsUsage: "NAME", Usage: "write the vault key to a file for safekeeping (it opens the vault without the passphrase)", Flags: []cli.Flag{
				&cli.StringFlag{Name: "to", Required: true, Usage: "file to write the key file to (never overwritten); it opens the vault without the passphrase"},
			}, Action: call(vaultKeyExport)}}},
			{Name: "passphrase", Usage: "the vault passphrase", Subcommands: []*cli.Command{{Name: "change", ArgsUsage: "NAME",
				Usage: "re-wrap the vault key under a new passphrase (a critical operation)", Flags: []cli.Flag{passphraseFlag, keyFileFlag,
					&cli.StringFlag{Name: "new-passphrase-file", Usage: "read the new passphrase from this file (else REWIND_NEW_PASSPHRASE, else a prompt)"},
				}, Action: call(vaultPassphraseChange)}}},
		},
	}
}

func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usagef("%s: want exactly one %s", c.Command.FullName(), what)
	}
	return c.Args().First(), nil
}

func vaultCreate(c *cli.Context, a *api) error {
	name, pass, err := vaultAndPassphrase(c, true)
	if err != nil {
		return err
	}
	req := daemon.CreateVaultRequest{Name: name, Passphrase: pass, DataShards: c.Int("data-shards"),
		ParityShards: c.Int("parity-shards"), AllowUnsafePlacement: c.Bool("allow-unsafe-placement")}
	if s := c.String("shards"); s != "" {
		req.Shards = strings.Split(s, ",")
	}
	var out map[string]any
	if err := a.post("/v1/vaults", req, &out); err != nil {
		return err
	}
	fmt.Printf("vault %q created. Keep its passphrase safe: without it the data cannot be read. "+
		"Run \"rewind vault key export %s --to FILE\" and store that file apart from this host.\n", name, name)
	return nil
}

func vaultAttach(c *cli.Context, a *api) error {
	name, pass, keyFile, err := vaultCredential(c)
	if err != nil {
		return err
	}
	req := daemon.AttachRequest{Name: name, Shards: strings.Split(c.String("shards"), ","), Passphrase: pass, Takeover: c.Bool("takeover"), KeyFile: keyFile}
	if err := a.post("/v1/vaults/attach", req, nil); err != nil {
		return err
	}
	fmt.Printf("vault %q attached from its shard targets and unlocked\n", name)
	return nil
}

func vaultList(c *cli.Context, a *api) error {
	var rows []map[string]any
	if err := a.get("/v1/vaults", &rows); err != nil {
		return err
	}
	return listing(c, rows, "name locked degraded immutability items=item_count data=data_shards parity=parity_shards writer error")
}

func vaultShow(c *cli.Context, a *api) error {
	name, err := oneArg(c, "vault NAME")
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.get("/v1/vaults/"+name, &v); err != nil {
		return err
	}
	return record(c, v)
}

func vaultUnlock(c *cli.Context, a *api) error {
	name, pass, keyFile, err := vaultCredential(c)
	if err != nil {
		return err
	}
	if err := a.post("/v1/vaults/"+name+"/unlock", daemon.UnlockRequest{Passphrase: pass, KeyFile: keyFile}, nil); err != nil {
		return err
	}
	fmt.Printf("vault %q unlocked\n", name)
	return nil
}

func vaultSet(c *cli.Context, a *api) error {
	name, err := oneArg(c, "vault NAME")
	if err != nil {
		return err
	}
	var req daemon.VaultSettingsRequest
	if c.IsSet("soft-delete-days") {
		n := c.Int("soft-delete-days")
		req.SoftDeleteDays = &n
	}
	setStr := func(flag string, dst **string) {
		if c.IsSet(flag) {
			v := c.String(flag)
			*dst = &v
		}
	}
	setStr("immutability", &req.Immutability)
	setStr("work-hours-rate", &req.WorkHoursRate)
	setStr("off-hours-rate", &req.OffHoursRate)
	setStr("work-hours", &req.WorkHours)
	setStr("tz", &req.TZ)
	if c.IsSet("multi-user-approval") {
		b := c.Bool("multi-user-approval")
		req.MultiUserApproval = &b
	}
	var v map[string]any
	if err := a.patch("/v1/vaults/"+name, req, &v); err != nil {
		return approvalHint(err)
	}
	return record(c, v)
}

func vaultKeyExport(c *cli.Context, a *api) error {
	name, err := oneArg(c, "vault NAME")
	if err != nil {
		return err
	}
	to := c.String("to")
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("key file %s already exists: it is never overwritten; give a new file name (or remove the old one yourself)", to)
	}
	var out struct {
		Key []byte `json:"key"`
	}
	if err := a.post("/v1/vaults/"+name+"/key-export", nil, &out); err != nil {
		return err
	}
	if err := writeNewFile(to, out.Key); err != nil {
		return err
	}
	fmt.Printf("key file of vault %q written to %s: it opens the vault without the passphrase (vault unlock/attach --key-file); keep it apart from this host, as safe as the passphrase\n", name, c.String("to"))
	return nil
}

// vaultAndPassphrase reads the vault NAME argument and its passphrase.
func vaultAndPassphrase(c *cli.Context, confirm bool) (string, string, error) {
	name, err := oneArg(c, "vault NAME")
	if err != nil {
		return "", "", err
	}
	pass, err := readPassphrase(c, confirm)
	return name, pass, err
}

// readPassphrase takes --passphrase-file, then REWIND_PASSPHRASE, then a
// prompt on the terminal (twice when confirm).
func readPassphrase(c *cli.Context, confirm bool) (string, error) {
	if f := c.String("passphrase-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", usagef("passphrase file: %v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if p := os.Getenv("REWIND_PASSPHRASE"); p != "" {
		return p, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", usagef("no passphrase: pass --passphrase-file, set REWIND_PASSPHRASE, or run on a terminal")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	p, err := prompt("Vault passphrase: ")
	if err != nil || !confirm {
		return p, err
	}
	again, err := prompt("Repeat passphrase: ")
	if err != nil {
		return "", err
	}
	if again != p {
		return "", usagef("the passphrases differ")
	}
	return p, nil
}

func prompt(label string) (string, error) {
	fmt.Fprint(os.Stderr, label)
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}

// writeNewFile writes b to a file that must not exist yet (O_EXCL: never an
// existing file, never through a symlink), mode 0600.
func writeNewFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("key file %s already exists: it is never overwritten; give a new file name", path)
	}
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	return f.Close()
}
