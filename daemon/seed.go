package daemon

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/golang/snappy"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/vault"
)

// A seed directory carries one recovery point, every chunk it references,
// encrypted with the vault's key, to a vault whose shard targets are too far
// away for a first full backup (FORMAT.md, "Seed directories"):
//
//	manifest.sealed   SealBlob(JSON seedManifest, aad "rewind-seed-manifest-v1")
//	pack-NNNNNN.dat   records: u32 BE length of (id + sealed) | 32-byte id | SealBlob(flag | data, aad id)
//	                  flag 0 = data raw, 1 = data snappy-compressed
const (
	seedManifestName = "manifest.sealed"
	seedManifestAAD  = "rewind-seed-manifest-v1"
	seedPackSize     = 256 << 20
	seedMaxRecord    = blockstore.MaxChunkSize + 1024
)

type seedManifest struct {
	Version int         `json:"version"`
	Vault   string      `json:"vault"`
	Item    vault.Item  `json:"item"`
	Point   vault.Point `json:"point"`
	Packs   []seedPack  `json:"packs"`
	Chunks  int         `json:"chunks"`
	Created time.Time   `json:"created"`
}

type seedPack struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Chunks int    `json:"chunks"`
}

// SeedExportRequest is POST /v1/items/{item}/seed-export.
type SeedExportRequest struct {
	To    string `json:"to"`
	Point string `json:"point,omitempty"`
}

// SeedImportRequest is POST /v1/vaults/{vault}/seed-import.
type SeedImportRequest struct {
	Dir  string `json:"dir"`
	Item string `json:"item,omitempty"`
}

// exportSeed writes point p of item and its chunks into dir.
func exportSeed(ctx context.Context, jc *jobCtx, v *vault.Vault, it vault.Item, p vault.Point, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seed directory %s: %w", dir, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return Errf(CodeInvalid, "seed directory %s is not empty: give a new or empty directory", dir)
	}
	st := v.Store()
	pw := &packWriter{dir: dir, st: st}
	seen := map[blockstore.ID]bool{}
	walk := walkers(st)[it.Source.Kind]
	err := walk(ctx, p.Root, func(id blockstore.ID) error {
		if seen[id] {
			return nil
		}
		seen[id] = true
		data, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		jc.progress(pw.bytes, p.SourceBytes)
		return pw.add(id, data)
	})
	if err == nil {
		err = pw.close()
	}
	if err != nil {
		return fmt.Errorf("seed export: %w", err)
	}
	m := seedManifest{Version: 1, Vault: v.Name(), Item: it, Point: p, Packs: pw.packs, Chunks: len(seen), Created: time.Now().UTC()}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	sealed, err := st.SealBlob(b, []byte(seedManifestAAD))
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, seedManifestName), sealed, 0o600)
}

// packWriter appends sealed chunks to pack files of at most seedPackSize.
type packWriter struct {
	dir   string
	st    *blockstore.Store
	f     *os.File
	w     *bufio.Writer
	h     hash.Hash
	cur   seedPack
	packs []seedPack
	bytes int64
}

func (pw *packWriter) add(id blockstore.ID, data []byte) error {
	if pw.f == nil || pw.cur.Size >= seedPackSize {
		if err := pw.rotate(); err != nil {
			return err
		}
	}
	payload := append([]byte{0}, data...)
	if c := snappy.Encode(nil, data); len(c) < len(data) {
		payload = append([]byte{1}, c...)
	}
	sealed, err := pw.st.SealBlob(payload, id[:])
	if err != nil {
		return err
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(blockstore.IDSize+len(sealed)))
	for _, part := range [][]byte{hdr[:], id[:], sealed} {
		if _, err := pw.w.Write(part); err != nil {
			return err
		}
		pw.h.Write(part)
		pw.cur.Size += int64(len(part))
	}
	pw.cur.Chunks++
	pw.bytes += int64(len(data))
	return nil
}

func (pw *packWriter) rotate() error {
	if err := pw.finish(); err != nil {
		return err
	}
	name := fmt.Sprintf("pack-%06d.dat", len(pw.packs)+1)
	f, err := os.OpenFile(filepath.Join(pw.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	pw.f, pw.w, pw.h, pw.cur = f, bufio.NewWriterSize(f, 1<<20), sha256.New(), seedPack{Name: name}
	return nil
}

func (pw *packWriter) finish() error {
	if pw.f == nil {
		return nil
	}
	err := pw.w.Flush()
	if err == nil {
		err = pw.f.Sync()
	}
	if cerr := pw.f.Close(); err == nil {
		err = cerr
	}
	pw.cur.SHA256 = hex.EncodeToString(pw.h.Sum(nil))
	pw.packs = append(pw.packs, pw.cur)
	pw.f = nil
	return err
}

func (pw *packWriter) close() error {
	if pw.f == nil && len(pw.packs) == 0 {
		if err := pw.rotate(); err != nil {
			return err
		}
	}
	return pw.finish()
}

// readSeedManifest opens and authenticates the manifest with v's key.
func readSeedManifest(v *vault.Vault, dir string) (seedManifest, error) {
	var m seedManifest
	path := filepath.Join(dir, seedManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return m, Errf(CodeInvalid, "seed %s: %v (is this a seed directory made by \"rewind seed export\"?)", dir, err)
	}
	plain, err := v.Store().OpenBlob(b, []byte(seedManifestAAD))
	if err != nil {
		return m, Errf(CodeInvalid, "seed %s: %s fails authentication: it was tampered with, truncated, or made by a vault with another key", dir, path)
	}
	if err := json.Unmarshal(plain, &m); err != nil || m.Version != 1 {
		return m, Errf(CodeInvalid, "seed %s: %s is not a version-1 manifest", dir, path)
	}
	return m, nil
}

// importSeed verifies every chunk of the seed and stores it, then records
// the point; a bad object fails the job naming it, and nothing is committed.
func importSeed(ctx context.Context, jc *jobCtx, v *vault.Vault, m seedManifest, dir, itemName string) (vault.Point, error) {
	w := v.Store().NewWriter()
	defer w.Close()
	var done int64
	for _, pk := range m.Packs {
		n, err := importPack(ctx, v.Store(), w, dir, pk)
		if err != nil {
			return vault.Point{}, err
		}
		done += n
		jc.progress(done, m.Point.SourceBytes)
	}
	if err := w.Flush(ctx); err != nil {
		return vault.Point{}, err
	}
	if _, err := v.Item(ctx, itemName); err != nil {
		// Hooks are not imported: they run as root on this host, and a seed
		// is a directory brought from elsewhere.
		spec := vault.ItemSpec{Name: itemName, Source: m.Item.Source}
		if m.Item.PreFreeze != "" || m.Item.PostThaw != "" {
			jc.warn(fmt.Sprintf("the seed's item %s has pre-freeze/post-thaw hooks: they were not imported (hooks run as root here); "+
				"to keep them, add item %s with its hooks first, then import into it with --item %s", m.Item.Name, itemName, itemName))
		}
		if _, err := v.AddItem(ctx, spec); err != nil {
			return vault.Point{}, err
		}
	}
	p := m.Point
	p.Item, p.Job, p.Tiers, p.Expiry = itemName, jc.job.ID, nil, time.Time{}
	return v.AddPoint(context.WithoutCancel(ctx), p)
}

// importPack streams one pack: every record authenticated and its id
// checked against its plaintext; the pack's size and SHA-256 must match.
func importPack(ctx context.Context, st *blockstore.Store, w *blockstore.Writer, dir string, pk seedPack) (int64, error) {
	path := filepath.Join(dir, filepath.Base(pk.Name))
	f, err := os.Open(path)
	if err != nil {
		return 0, Errf(CodeInvalid, "seed object %s: %v", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != pk.Size {
		return 0, Errf(CodeInvalid, "seed object %s has the wrong size (truncated or replaced): the seed is damaged", path)
	}
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	var bytes int64
	for i := 0; i < pk.Chunks; i++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := importRecord(ctx, st, w, r)
		if err != nil {
			return 0, Errf(CodeInvalid, "seed object %s, chunk %d: %v: the seed is damaged", path, i, err)
		}
		bytes += n
	}
	if hex.EncodeToString(h.Sum(nil)) != pk.SHA256 {
		return 0, Errf(CodeInvalid, "seed object %s does not match its checksum in the manifest: the seed is damaged", path)
	}
	return bytes, nil
}

func importRecord(ctx context.Context, st *blockstore.Store, w *blockstore.Writer, r io.Reader) (int64, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, fmt.Errorf("record header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n <= blockstore.IDSize || n > seedMaxRecord {
		return 0, fmt.Errorf("record length %d out of range", n)
	}
	rec := make([]byte, n)
	if _, err := io.ReadFull(r, rec); err != nil {
		return 0, fmt.Errorf("record: %w", err)
	}
	var id blockstore.ID
	copy(id[:], rec[:blockstore.IDSize])
	payload, err := st.OpenBlob(rec[blockstore.IDSize:], id[:])
	if err != nil || len(payload) == 0 {
		return 0, fmt.Errorf("chunk %s fails authentication", id)
	}
	data := payload[1:]
	if payload[0] == 1 {
		if data, err = snappy.Decode(nil, data); err != nil {
			return 0, fmt.Errorf("chunk %s: %w", id, err)
		}
	}
	if st.ChunkID(data) != id {
		return 0, fmt.Errorf("chunk %s does not hash to its id", id)
	}
	if _, err := w.Put(ctx, data); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}
