package s3

import (
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// Open parses spec and returns its Target, wrapped in a read Cache when the
// spec has cache=DIR. It does no network I/O.
func Open(spec string) (blockstore.Target, error) {
	cfg, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	t, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.CacheDir == "" {
		return t, nil
	}
	c, err := NewCache(t, cfg.CacheDir, cfg.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("s3 target %s: %w", cfg.Name(), err)
	}
	return c, nil
}
