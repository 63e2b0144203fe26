// Package daemon is the rewind service: configuration, the scheduler, the job
// runner, the HTTP/JSON API over a unix socket (and optionally TLS), its
// client, and systemd integration.
package daemon
