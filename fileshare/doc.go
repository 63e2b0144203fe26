// Package fileshare captures directory trees (mounted NFS/SMB exports or any
// local path) into recovery points, incrementally, with content-defined
// chunking, and restores them without ever writing outside the target.
package fileshare
