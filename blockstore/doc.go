// Package blockstore is rewind's content-addressed chunk store: chunks are
// hashed with a keyed BLAKE3, compressed with snappy, sealed with AES-256-GCM,
// appended to segments that are split into Reed-Solomon data and parity
// shards on shard targets, and indexed in Pebble. It knows nothing of items,
// disks or files. FORMAT.md documents every byte it writes.
package blockstore
