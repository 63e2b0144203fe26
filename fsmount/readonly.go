package fsmount

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// readOnly answers every write-type operation with EROFS. The mount is also
// made with MS_RDONLY, so the kernel normally refuses these before asking;
// this is the second line.
type readOnly struct{}

var (
	_ = (fs.NodeSetattrer)((*readOnly)(nil))
	_ = (fs.NodeSetxattrer)((*readOnly)(nil))
	_ = (fs.NodeRemovexattrer)((*readOnly)(nil))
	_ = (fs.NodeMkdirer)((*readOnly)(nil))
	_ = (fs.NodeMknoder)((*readOnly)(nil))
	_ = (fs.NodeLinker)((*readOnly)(nil))
	_ = (fs.NodeSymlinker)((*readOnly)(nil))
	_ = (fs.NodeCreater)((*readOnly)(nil))
	_ = (fs.NodeUnlinker)((*readOnly)(nil))
	_ = (fs.NodeRmdirer)((*readOnly)(nil))
	_ = (fs.NodeRenamer)((*readOnly)(nil))
	_ = (fs.NodeWriter)((*readOnly)(nil))
	_ = (fs.NodeAllocater)((*readOnly)(nil))
	_ = (fs.NodeCopyFileRanger)((*readOnly)(nil))
	_ = (fs.NodeFsyncer)((*readOnly)(nil))
)

func (readOnly) Setattr(context.Context, fs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (readOnly) Setxattr(context.Context, string, []byte, uint32) syscall.Errno {
	return syscall.EROFS
}

func (readOnly) Removexattr(context.Context, string) syscall.Errno { return syscall.EROFS }

func (readOnly) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Link(context.Context, fs.InodeEmbedder, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Symlink(context.Context, string, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (readOnly) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }

func (readOnly) Rmdir(context.Context, string) syscall.Errno { return syscall.EROFS }

func (readOnly) Rename(context.Context, string, fs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}

func (readOnly) Write(context.Context, fs.FileHandle, []byte, int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (readOnly) Allocate(context.Context, fs.FileHandle, uint64, uint64, uint32) syscall.Errno {
	return syscall.EROFS
}

func (readOnly) CopyFileRange(context.Context, fs.FileHandle, uint64, *fs.Inode, fs.FileHandle, uint64, uint64, uint64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

// Fsync has nothing to flush.
func (readOnly) Fsync(context.Context, fs.FileHandle, uint32) syscall.Errno { return 0 }
