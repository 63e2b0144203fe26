package vmdisk

import "context"

func (s *session) openQcow2(ctx context.Context, prev *Prev, opts BackupOptions) error { panic("x") }

func restoreQcow2(ctx context.Context, r ChunkReader, m *mapRoot, target string, opts RestoreOptions) (*RestoreResult, error) {
	panic("x")
}
