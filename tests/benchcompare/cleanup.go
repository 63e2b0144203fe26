package main

import (
	"log"
	"os"
	"strings"
	"sync"
	"syscall"
)

// cleanups is a stack of undo actions run on any exit, newest first.
type cleanups struct {
	mu  sync.Mutex
	fns []func()
}

// add registers fn and returns a function that runs it early (once).
func (c *cleanups) add(fn func()) func() {
	var once sync.Once
	f := func() { once.Do(fn) }
	c.mu.Lock()
	c.fns = append(c.fns, f)
	c.mu.Unlock()
	return f
}

func (c *cleanups) run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// unmountUnder detaches every mount below dir (a tool that died leaves its
// FUSE mount behind).
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			if err := syscall.Unmount(f[1], syscall.MNT_DETACH); err != nil {
				log.Printf("unmount %s: %v", f[1], err)
			}
		}
	}
}
