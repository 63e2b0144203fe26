package vault

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/golang/snappy"

	"github.com/rewind-backup/rewind/blockstore"
)

// Catalog checkpoints let a vault be rebuilt from its shard targets alone
// (Host.Attach) after the backup host and its data directory are lost.
//
// Object "catalog/<seq, 16 hex digits>" on every target; seq carries the
// writer's owner epoch in its top 24 bits (blockstore.EpochShift):
//
//	SealBlob(snappy(plaintext), aad = "rewind catalog v1 <seq>")
//	plaintext = "RWCAT1\n" then, for every catalog key in order,
//	            uvarint(len key) key uvarint(len value) value
//
// The newest checkpointsKept are kept; older ones are deleted once the newest
// is on every target.
const (
	checkpointPrefix = "catalog/"
	checkpointMagic  = "RWCAT1\n"
	checkpointsKept  = 3
	// maxCheckpoint bounds a checkpoint object read back on attach.
	maxCheckpoint = 1 << 30
)

func checkpointName(seq uint64) string { return fmt.Sprintf("%s%016x", checkpointPrefix, seq) }

func checkpointAAD(seq uint64) []byte { return []byte(fmt.Sprintf("rewind catalog v1 %016x", seq)) }

// Checkpoint writes the whole catalog, encrypted, to every shard target. It
// fails when fewer than DataShards+1 targets took it (attach needs one).
func (v *Vault) Checkpoint(ctx context.Context) error {
	if err := v.CheckUnlocked(); err != nil {
		return err
	}
	v.ckMu.Lock()
	defer v.ckMu.Unlock()
	if err := v.checkOwner(ctx); err != nil {
		return err
	}
	plain, err := v.exportCatalog()
	if err != nil {
		return err
	}
	targets := v.Store().Targets()
	seq, err := nextCheckpoint(latestCheckpoint(ctx, targets), v.Store().Epoch())
	if err != nil {
		return fmt.Errorf("catalog checkpoint of vault %q: %w", v.name, err)
	}
	sealed, err := v.Store().SealBlob(snappy.Encode(nil, plain), checkpointAAD(seq))
	if err != nil {
		return err
	}
	var ok int
	var errs []error
	for _, t := range targets {
		if err := t.Put(ctx, checkpointName(seq), sealed); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Name(), err))
			continue
		}
		ok++
	}
	if ok < v.Layout().DataShards+1 {
		return fmt.Errorf("catalog checkpoint of vault %q reached only %d targets: %w", v.name, ok, errors.Join(errs...))
	}
	if ok == len(targets) {
		pruneCheckpoints(ctx, targets, seq)
	}
	return nil
}

// exportCatalog serialises every catalog key and value in key order.
func (v *Vault) exportCatalog() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(checkpointMagic)
	var n [binary.MaxVarintLen64]byte
	err := v.cat().scan(prefCatalog, func(key string, val []byte) error {
		buf.Write(n[:binary.PutUvarint(n[:], uint64(len(key)))])
		buf.WriteString(key)
		buf.Write(n[:binary.PutUvarint(n[:], uint64(len(val)))])
		buf.Write(val)
		return nil
	})
	return buf.Bytes(), err
}

// checkpointSeqs lists the checkpoint sequence numbers on t, newest first.
func checkpointSeqs(ctx context.Context, t blockstore.Target) []uint64 {
	var seqs []uint64
	_ = t.List(ctx, checkpointPrefix, func(name string, _ int64) error {
		if s, err := strconv.ParseUint(strings.TrimPrefix(name, checkpointPrefix), 16, 64); err == nil {
			seqs = append(seqs, s)
		}
		return nil
	})
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] > seqs[j] })
	return seqs
}

// nextCheckpoint is the sequence after top for a writer of epoch: the
// epoch sits in the top bits (blockstore.EpochShift), so two owners never
// write the same name and a newer epoch's checkpoints sort after older ones.
func nextCheckpoint(top uint64, epoch uint32) (uint64, error) {
	switch te := blockstore.EpochOf(top); {
	case te > epoch:
		return 0, fmt.Errorf("a checkpoint of a newer owner epoch %d is on the targets (this host writes epoch %d)", te, epoch)
	case te == epoch:
		return top + 1, nil
	}
	return uint64(epoch)<<blockstore.EpochShift | 1, nil
}

func latestCheckpoint(ctx context.Context, targets []blockstore.Target) uint64 {
	var top uint64
	for _, t := range targets {
		if s := checkpointSeqs(ctx, t); len(s) > 0 && s[0] > top {
			top = s[0]
		}
	}
	return top
}

func pruneCheckpoints(ctx context.Context, targets []blockstore.Target, newest uint64) {
	for _, t := range targets {
		for i, s := range checkpointSeqs(ctx, t) { // newest first
			if i >= checkpointsKept && s < newest {
				_ = t.Delete(ctx, checkpointName(s))
			}
		}
	}
}

// readCheckpoint finds the newest checkpoint that opens with st's key on any
// target and returns its catalog records.
func readCheckpoint(ctx context.Context, st *blockstore.Store) (map[string][]byte, uint64, error) {
	seen := map[uint64]bool{}
	var candidates []uint64
	for _, t := range st.Targets() {
		for _, s := range checkpointSeqs(ctx, t) {
			if !seen[s] {
				seen[s] = true
				candidates = append(candidates, s)
			}
		}
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i] > candidates[j] })
	for _, seq := range candidates {
		for _, t := range st.Targets() {
			if recs, err := openCheckpoint(ctx, st, t, seq); err == nil {
				return recs, seq, nil
			}
		}
	}
	return nil, 0, errors.New("no catalog checkpoint on the shard targets opens with this passphrase")
}

func openCheckpoint(ctx context.Context, st *blockstore.Store, t blockstore.Target, seq uint64) (map[string][]byte, error) {
	size, err := t.Stat(ctx, checkpointName(seq))
	if err != nil || size > maxCheckpoint {
		return nil, fmt.Errorf("checkpoint %d on %s: unusable", seq, t.Name())
	}
	sealed := make([]byte, size)
	if err := t.ReadAt(ctx, checkpointName(seq), sealed, 0); err != nil {
		return nil, err
	}
	comp, err := st.OpenBlob(sealed, checkpointAAD(seq))
	if err != nil {
		return nil, err
	}
	plain, err := snappy.Decode(nil, comp)
	if err != nil {
		return nil, err
	}
	return parseCatalog(plain)
}

// parseCatalog reverses exportCatalog, refusing anything malformed.
func parseCatalog(b []byte) (map[string][]byte, error) {
	rest, ok := bytes.CutPrefix(b, []byte(checkpointMagic))
	if !ok {
		return nil, errors.New("not a catalog checkpoint")
	}
	out := map[string][]byte{}
	for len(rest) > 0 {
		var key, val []byte
		var err error
		if key, rest, err = lenPrefixed(rest); err != nil {
			return nil, err
		}
		if val, rest, err = lenPrefixed(rest); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(string(key), prefCatalog) {
			return nil, fmt.Errorf("checkpoint holds a key outside the catalog: %q", key)
		}
		out[string(key)] = val
	}
	return out, nil
}

func lenPrefixed(b []byte) ([]byte, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, nil, errors.New("checkpoint record truncated")
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}
