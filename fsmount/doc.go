// Package fsmount serves recovery points as a read-only go-fuse file system:
// share trees as backed up, and disk points as disk.img, partitions and the
// files inside their guest file systems.
package fsmount
