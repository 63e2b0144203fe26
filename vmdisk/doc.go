// Package vmdisk captures and restores VM disk images: raw files, block
// devices, NBD exports (a native NBD client) and qcow2 images (through
// qemu-nbd), with changed-block tracking from dirty bitmaps, changed-block
// lists, or hash comparison. A disk point is a block map of 4 MiB blocks
// stored as chunks.
package vmdisk
