package vault

import (
	"context"
	"errors"
	"sort"
)

// FindJob looks a job id up in every open vault (job ids are unique on the
// host).
func (h *Host) FindJob(ctx context.Context, id string) (*Vault, Job, error) {
	for _, v := range h.open() {
		j, err := v.Job(ctx, id)
		if err == nil {
			return v, j, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, Job{}, err
		}
	}
	return nil, Job{}, notFound("job %q does not exist: see \"rewind jobs\"", id)
}

// open returns the open vaults sorted by name.
func (h *Host) open() []*Vault {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Vault, 0, len(h.vaults))
	for _, v := range h.vaults {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
