package vmdisk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// qemuImg runs qemu-img and returns its output; errors carry its message.
func qemuImg(ctx context.Context, args ...string) ([]byte, error) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		return nil, fmt.Errorf("qemu-img is not installed: apt-get install qemu-utils: %w", err)
	}
	cmd := exec.CommandContext(ctx, "qemu-img", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "lock") {
			msg += " (is a VM or another qemu-nbd using the image? qcow2: sources must be offline; back up a running VM through NBD pull mode)"
		}
		return nil, fmt.Errorf("qemu-img %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// qcowInfo is the part of `qemu-img info --output=json` rewind reads.
type qcowInfo struct {
	VirtualSize int64  `json:"virtual-size"`
	Format      string `json:"format"`
	Specific    struct {
		Data struct {
			Bitmaps []qcowBitmap `json:"bitmaps"`
		} `json:"data"`
	} `json:"format-specific"`
}

type qcowBitmap struct {
	Name        string   `json:"name"`
	Granularity int64    `json:"granularity"`
	Flags       []string `json:"flags"`
}

func readQcowInfo(ctx context.Context, path string) (*qcowInfo, error) {
	out, err := qemuImg(ctx, "info", "--output=json", "-U", "-f", "qcow2", path)
	if err != nil {
		return nil, err
	}
	var info qcowInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("qemu-img info %s: %w", path, err)
	}
	return &info, nil
}

func (i *qcowInfo) bitmap(name string) *qcowBitmap {
	for k := range i.Specific.Data.Bitmaps {
		if i.Specific.Data.Bitmaps[k].Name == name {
			return &i.Specific.Data.Bitmaps[k]
		}
	}
	return nil
}

// qemuNBDProc is a qemu-nbd child serving one image on a private socket.
type qemuNBDProc struct {
	cmd  *exec.Cmd
	dir  string
	uri  string
	done chan struct{}
	out  *strings.Builder
}

// startQemuNBD serves spec (a json: filename from Chain.qemuSpec, naming
// every file qemu may open) read-only on a socket in a new temp dir,
// exporting the given dirty bitmap when not "".
func startQemuNBD(ctx context.Context, spec, bitmap string) (*qemuNBDProc, error) {
	if _, err := exec.LookPath("qemu-nbd"); err != nil {
		return nil, fmt.Errorf("qemu-nbd is not installed: apt-get install qemu-utils: %w", err)
	}
	dir, err := os.MkdirTemp("", "rewind-qemu-nbd-")
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "nbd.sock")
	args := []string{"-r", "-t", "-k", sock}
	if bitmap != "" {
		args = append(args, "-B", bitmap)
	}
	p := &qemuNBDProc{dir: dir, uri: "nbd+unix:///?socket=" + sock, done: make(chan struct{}), out: &strings.Builder{}}
	p.cmd = exec.Command("qemu-nbd", append(args, spec)...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start qemu-nbd: %w", err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	if err := p.waitReady(ctx, sock); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *qemuNBDProc) waitReady(ctx context.Context, sock string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("qemu-nbd exited: %s", strings.TrimSpace(p.out.String()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return errors.New("qemu-nbd did not open its socket within 15s")
}

// stop terminates the process group (TERM, then KILL) and removes the socket dir.
func (p *qemuNBDProc) stop() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	os.RemoveAll(p.dir)
}
