// Package blockstore is rewind's content-addressed chunk store: chunks are
// hashed with a keyed BLAKE3, compressed with snappy, sealed with AES-256-GCM,
// appended to segments that are split into Reed-Solomon data and parity
// shards on shard targets, and indexed in Pebble. It knows nothing of items,
// disks or files. FORMAT.md documents every byte it writes.
//
// Where things are:
//
//	api.go, store.go     the contract types; Create, Open, Close
//	keys.go, keyops.go   master key wrapping (argon2id), subkeys, passphrase change, blobs, Attach
//	codec.go             chunk id, segment entry encode/decode (snappy + AES-GCM)
//	index.go             Pebble key layout, values, durable counters (nonces, segment ids)
//	writer.go            Writer: dedupe, append to the shared open segment, Flush
//	segment.go           sealing: Reed-Solomon split, shard writes, index commit
//	shard.go             shard object header, block checksums
//	read.go, hdrcache.go Get: ranged shard reads, reconstruction from parity
//	gc.go, gcsweep.go    mark and sweep, segment rewrite, orphan removal
//	verify.go            Verify and Repair
//	rebuild.go           RebuildIndex from the targets
//	dirtarget.go         the directory Target
//
// Subpackages: targettest (conformance suite for any Target) and faulty (a
// fault-injecting Target wrapper for tests).
package blockstore
