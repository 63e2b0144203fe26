package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/rewind-backup/rewind/seed"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var seedPassFlag = &cli.StringFlag{Name: "seed-passphrase-file", Usage: "read the seed passphrase from this file (else REWIND_SEED_PASSPHRASE, else a prompt)"}

func seedCommand() *cli.Command {
	return &cli.Command{Name: "seed", Usage: "offline seeding: carry a first full backup on a disk", Subcommands: []*cli.Command{
		{Name: "create", Usage: "capture a disk or share into a seed directory (no daemon, no vault needed)",
			Flags: []cli.Flag{&cli.StringFlag{Name: "disk", Usage: "disk source: raw file, block device, qcow2 image or nbd:// URL"},
				&cli.StringFlag{Name: "share", Usage: "share source: a directory"},
				&cli.StringFlag{Name: "bitmap", Usage: "qcow2: track changes from the seed with this persistent dirty bitmap"},
				&cli.StringFlag{Name: "to", Required: true, Usage: "the seed directory (new or empty)"}, seedPassFlag, jsonFlag},
			Action: seedCreate},
		{Name: "import", ArgsUsage: "DIR", Usage: "verify a seed and make it an item's first recovery point",
			Flags: []cli.Flag{&cli.StringFlag{Name: "vault", Value: "default", Usage: "the vault to import into"},
				&cli.StringFlag{Name: "item", Required: true, Usage: "an item with no points yet (its source as this host reaches it), or a new name: created from the seed's source"},
				seedPassFlag, noWaitFlag, jsonFlag},
			Action: call(seedImport)},
	}}
}

// seedCreate runs in this process: the capture code writes the seed directly.
func seedCreate(c *cli.Context) error {
	if c.NArg() != 0 {
		return usagef("seed create takes no arguments: give --disk or --share and --to")
	}
	pass, err := seedPassphrase(c, true)
	if err != nil {
		return err
	}
	to, err := filepath.Abs(c.String("to"))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	pr := newSeedProgress()
	m, err := seed.Create(ctx, seed.CreateOptions{Dir: to, Disk: c.String("disk"), Share: c.String("share"),
		Bitmap: c.String("bitmap"), Passphrase: []byte(pass), Progress: pr.update})
	pr.done()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(map[string]any{"dir": to, "kind": m.Kind, "source": m.Source, "captured": m.Captured,
			"source_bytes": m.SourceBytes, "bytes_read": m.BytesRead, "bytes_stored": m.BytesStored, "packs": len(m.Packs), "warnings": m.Warnings})
	}
	fmt.Printf("seed of %s written to %s: %s read, %s stored in %d packs. Carry the directory to the vault host and run \"rewind seed import %s --vault V --item NAME\".\n",
		m.Source, to, bytesHuman(float64(m.BytesRead)), bytesHuman(float64(m.BytesStored)), len(m.Packs), to)
	for _, w := range m.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	return nil
}

func seedImport(c *cli.Context, a *api) error {
	dir, err := oneArg(c, "seed DIR")
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	pass, err := seedPassphrase(c, false)
	if err != nil {
		return err
	}
	var job map[string]any
	req := daemon.SeedImportRequest{Dir: dir, Item: c.String("item"), Passphrase: pass}
	if err := a.post("/v1/vaults/"+c.String("vault")+"/seed-import", req, &job); err != nil {
		return err
	}
	return followJob(c, a, job)
}

// seedPassphrase reads --seed-passphrase-file, REWIND_SEED_PASSPHRASE, or
// asks on the terminal (twice when confirm).
func seedPassphrase(c *cli.Context, confirm bool) (string, error) {
	if f := c.String("seed-passphrase-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", usagef("seed passphrase file: %v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if p := os.Getenv("REWIND_SEED_PASSPHRASE"); p != "" {
		return p, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", usagef("no seed passphrase: pass --seed-passphrase-file or set REWIND_SEED_PASSPHRASE")
	}
	p, err := prompt("Seed passphrase: ")
	if err != nil || !confirm {
		return p, err
	}
	if again, err := prompt("Repeat seed passphrase: "); err != nil || again != p {
		return "", usagef("the seed passphrases differ")
	}
	return p, nil
}

// seedProgress draws the capture's progress with the job bar, at most every
// 200 ms; on a non-terminal it prints nothing.
type seedProgress struct {
	mu   sync.Mutex
	bar  *progress
	last time.Time
	t0   time.Time
}

func newSeedProgress() *seedProgress {
	return &seedProgress{bar: newProgress(true), t0: time.Now()}
}

func (p *seedProgress) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	rate := float64(done) / max(time.Since(p.t0).Seconds(), 0.001)
	p.bar.update(map[string]any{"done": float64(done), "total": float64(total), "rate": rate, "status": "capturing"})
}

func (p *seedProgress) done() { p.bar.done() }
