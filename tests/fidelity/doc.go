// Package fidelity compares two file trees the way an admin judges a
// restore: type and mode, owners, device numbers, link counts and hard-link
// groups, size, nanosecond times, every extended attribute (POSIX ACLs
// included), a hash of the contents and the SEEK_DATA/SEEK_HOLE map. Diff
// reports every difference, not only the first. The end-to-end tests use it
// on trees restored by `restore share`, `restore files` and copied out of
// the mount with cp -a and rsync -aHAX.
package fidelity
