package vmdisk

import (
	"context"
	"fmt"
)

// session is one open source plus the change-tracking decision for a backup.
type session struct {
	spec    string
	src     source
	prevMap *mapRoot
	method  string
	dirty   dirtySource // set when method == MethodBitmap
	changed *blockSet   // set when method == MethodChangedBlocks
	state   string      // SourceState of the new point
	chain   Chain       // qcow2: the checked backing chain
	// chainChange says how the chain differs from the previous point's
	// ("" when it does not): change tracking of the image alone is not
	// trusted then.
	chainChange string
	warnings    []string
	commit      func(ctx context.Context) error // after the catalog commit
	cleanup     func(ok bool) error             // always, once
}

func (s *session) warn(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

func (s *session) close(ok bool) error {
	err := s.src.Close()
	if s.cleanup != nil {
		if cerr := s.cleanup(ok); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

// openSession opens src and decides how to find changed blocks. Whatever
// happens (error, cancellation, panic) a half-opened source is torn down.
func openSession(ctx context.Context, spec string, prev *Prev, prevMap *mapRoot, opts BackupOptions) (_ *session, err error) {
	s := &session{spec: spec, prevMap: prevMap}
	ok := false
	defer func() {
		if !ok {
			s.abort()
		}
	}()
	switch sourceKind(spec) {
	case "nbd":
		err = s.openNBD(ctx, prev, opts)
	case "qcow2":
		err = s.openQcow2(ctx, prev, opts)
	default:
		err = s.openFile(opts)
	}
	if err == nil {
		err = checkSize(spec, s.src.Size())
	}
	if err == nil {
		err = s.decide(opts)
	}
	ok = err == nil
	return s, err
}

// abort tears down a session that failed to open.
func (s *session) abort() {
	if s.src != nil {
		s.close(false)
	} else if s.cleanup != nil {
		s.cleanup(false)
	}
}

func (s *session) openFile(opts BackupOptions) error {
	src, err := openFileSource(s.spec)
	if err != nil {
		return err
	}
	s.src = src
	if opts.Bitmap != "" {
		s.warn("source %s is a raw file or device and has no dirty bitmap %q: changes found by hash comparison; use a qcow2: or nbd source for bitmap tracking", s.spec, opts.Bitmap)
	}
	return nil
}

// decide picks the method once the source is open.
func (s *session) decide(opts BackupOptions) error {
	switch {
	case s.prevMap == nil:
		s.method = MethodFull
	case s.dirty != nil:
		s.method = MethodBitmap
	case opts.ChangedBlocksFile != "" && s.chainChange != "":
		s.warn("changed-block list not used (the backing chain changed since the previous point: %s): changed blocks found by hash comparison", s.chainChange)
		s.method = MethodHashCompare
	case opts.ChangedBlocksFile != "":
		set, err := loadChangedBlocks(opts.ChangedBlocksFile, s.src.Size())
		if err != nil {
			return err
		}
		s.method, s.changed = MethodChangedBlocks, set
	default:
		s.method = MethodHashCompare
	}
	if s.method != MethodBitmap {
		s.dirty = nil
	}
	return nil
}
