package daemon

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestLimitListener: a client over its per-IP cap is closed at accept; a
// closed connection gives its slot back.
func TestLimitListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(raw, 10, 2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var clients []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var held []net.Conn
	for len(held) < 2 {
		held = append(held, <-accepted)
	}
	closed := 0
	for _, c := range clients {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed != 2 || len(accepted) != 0 {
		t.Fatalf("%d of 4 connections closed at accept (%d more accepted), want 2", closed, len(accepted))
	}
	held[0].Close()
	c, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("a slot given back was not reused")
	}
}
