// Package tests holds rewind's end-to-end tests: they build the real binary,
// start "rewind daemon" as a process and drive it through the CLI, against
// real FUSE mounts, real qemu tools and file-system images made by mkfs.
// Subpackage fidelity builds a metadata corpus with real tools and compares
// restored trees with their source (every difference, not only the first).
package tests
