package vault

import (
	"context"
)

// ItemUsage is an item's storage use, from the point records (approximate,
// no chunk is read):
//
//   - SourceBytes: the newest point's source size.
//   - StoredBytes: the sum of BytesStored (bytes newly stored, after dedup and
//     compression) over the item's kept points: what this item added.
//   - SharedBytes: SourceBytes of the newest point minus StoredBytes, floored at
//     0: an estimate of the data the item dedupes against (its own older
//     points or other items).
//
// Chunks added by a point that was since deleted but are still referenced by
// later points are not counted, so StoredBytes undercounts after expiry.
type ItemUsage struct {
	Item        string    `json:"item"`
	State       ItemState `json:"state"`
	Points      int       `json:"points"`
	SourceBytes int64     `json:"source_bytes"`
	StoredBytes int64     `json:"stored_bytes"`
	SharedBytes int64     `json:"shared_bytes"`
}

// Usage returns the usage of every item that is not purged.
func (v *Vault) Usage(ctx context.Context) ([]ItemUsage, error) {
	items, err := v.Items(ctx)
	if err != nil {
		return nil, err
	}
	var out []ItemUsage
	for _, it := range items {
		if !it.State.Live() {
			continue
		}
		u, err := v.itemUsage(ctx, it)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (v *Vault) itemUsage(ctx context.Context, it Item) (ItemUsage, error) {
	u := ItemUsage{Item: it.Name, State: it.State}
	err := scanJSON(v.cat(), pointPrefix(it.Name), func(p Point) error {
		u.Points++
		u.StoredBytes += p.BytesStored
		u.SourceBytes = p.SourceBytes
		return nil
	})
	if u.SharedBytes = u.SourceBytes - u.StoredBytes; u.SharedBytes < 0 {
		u.SharedBytes = 0
	}
	return u, err
}
