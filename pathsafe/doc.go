// Package pathsafe resolves a target path the daemon (running as root) is
// told to write to — a restore target, a mountpoint — without letting
// another user steer the write elsewhere.
//
// It follows systemd's chase(): the path must be absolute; it is walked one
// component at a time with openat2(O_PATH|O_NOFOLLOW) from "/"; a symlink is
// followed only when root owns it (a link owned by any other user is
// refused with an error naming the link and its owner, whoever the caller
// is); ".." moves to the real parent of the directory reached so far. A
// sticky, world-writable parent such as /tmp is an ordinary parent. The
// result is a canonical path (no symlink, "." or "..") plus O_PATH
// descriptors of the target and its parent, so callers write through the
// descriptors instead of walking the string again.
//
// It imports nothing of rewind's.
package pathsafe
