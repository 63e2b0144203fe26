package vault_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rewind-backup/rewind/vault"
)

// A vault's life in brief: create it, protect a disk, record a point, sweep.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "rewind-example")
	defer os.RemoveAll(dir)
	now := time.Date(2026, 1, 1, 22, 30, 0, 0, time.UTC)
	h, err := vault.OpenHost(ctx, dir, vault.HostOptions{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	defer h.Close()
	v, err := h.Create(ctx, "prod-1", []byte("passphrase"), vault.CreateOptions{Layout: vault.StorageLayout{DataShards: 1}})
	if err != nil {
		panic(err)
	}
	if _, err := v.AddItem(ctx, vault.ItemSpec{Name: "db", Source: vault.Source{Kind: vault.KindDisk, Spec: "/dev/vg/db"}}); err != nil {
		panic(err)
	}
	w := v.Store().NewWriter()
	root, _ := w.Put(ctx, []byte("block map"))
	_ = w.Flush(ctx)
	p, err := v.AddPoint(ctx, vault.Point{Item: "db", Time: now, Kind: vault.Full, Consistency: vault.ConsistencyCrash, Root: root.ID})
	if err != nil {
		panic(err)
	}
	w.Close()
	fmt.Println(p.ID, p.Tiers, p.Expiry.Format(time.RFC3339))

	_, err = h.Create(ctx, "prod_2", []byte("x"), vault.CreateOptions{})
	fmt.Println(err)
	// Output:
	// 2026-01-01T22:30:00Z [daily] 2026-01-31T22:30:00Z
	// vault name "prod_2" is not allowed: use 2–50 characters, starting with a letter, letters, digits and hyphens only
}
