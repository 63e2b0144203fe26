// Package s3 is a blockstore.Target on an S3-compatible bucket (AWS S3, MinIO,
// Ceph RGW, …), named by a spec such as
//
//	s3://[ACCESS@]HOST:PORT/BUCKET[/PREFIX]?region=…&tls=0|1&ca=/path&path-style=1&creds=/path
//
// It is built on github.com/minio/minio-go/v7: a small client that speaks plain
// S3 to any compatible server, with ranged GetObject (ReadAt fetches only the
// bytes a read needs), single-request PutObject with a content length and
// Content-MD5 (an object appears whole or not at all), prefix listing, and the
// object lock API (retention modes and dates per object).
//
// Each shard object is one S3 object under PREFIX/. Requests that fail with a
// 5xx, a throttle or a network error are retried with bounded backoff; a target
// that stays unreachable is marked down for a while so reads fail fast and the
// store reconstructs from its other shards. Credentials come from a file
// (creds=) or the environment and never appear in names, errors or logs.
//
// Open wraps the target in a local read cache when the spec has cache=DIR
// (bounded by cache-size=, LRU eviction). FORMAT.md describes the object
// names, object lock and the cache layout.
package s3
