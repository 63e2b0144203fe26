package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore/s3"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
)

// rawDisk writes a raw disk image of n MiB: random blocks, repeated blocks
// and zero runs, like a real disk.
func rawDisk(t testing.TB, path string, n int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	img := make([]byte, n<<20)
	for off := 0; off < len(img); off += 1 << 20 {
		switch (off >> 20) % 4 {
		case 0, 1:
			for i := off; i < off+1<<20; i += 8 {
				v := r.Uint64()
				for j := 0; j < 8; j++ {
					img[i+j] = byte(v >> (8 * j))
				}
			}
		case 2:
			copy(img[off:off+1<<20], img[0:1<<20])
		}
	}
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return img
}

// s3Vault starts three MinIO servers and returns the six shard specs of a
// 4+2 vault: two on each server, in one bucket, under distinct prefixes;
// with cached, the two on the first server go through a read cache.
func s3Vault(t testing.TB, cached bool) ([]*miniotest.Server, []string) {
	var srvs []*miniotest.Server
	var specs []string
	for i := 0; i < 3; i++ {
		srv := miniotest.Start(t)
		srv.MakeBucket(t, "rewind", false)
		srvs = append(srvs, srv)
	}
	cache := t.TempDir()
	for i := 0; i < 6; i++ {
		var opts []string
		if cached && i < 2 { // shards 0-1 read through a local cache
			opts = append(opts, "cache="+cache, "cache-size=64M")
		}
		specs = append(specs, srvs[i/2].Spec("rewind", fmt.Sprintf("vault1/shard%d", i), opts...))
	}
	return srvs, specs
}

func jobStatus(t *testing.T, out string) string {
	var job map[string]any
	if err := json.Unmarshal([]byte(out), &job); err != nil {
		t.Fatalf("job json: %v\n%s", err, out)
	}
	return fmt.Sprint(job["status"])
}

// TestS3Vault backs a share and a raw disk up into a 4+2 vault whose shards
// are on three MinIO servers, kills one server with SIGKILL, restores both
// byte-identically and reads them through the mount, sees a backup that must
// write fail without a point, then restarts it: backups work again, and
// verify and repair bring back shard objects lost on it.
func TestS3Vault(t *testing.T) {
	need(t, "fusermount3")
	srvs, specs := s3Vault(t, true)
	d := startDaemon(t, "")
	pf := filepath.Join(d.dir, "pass")
	os.WriteFile(pf, []byte("s3 vault passphrase\n"), 0o600)
	missing := strings.Replace(strings.Join(specs, ","), "/rewind/", "/nobucket/", 1)
	if _, errOut, code := d.run("vault", "create", "s3bad", "--passphrase-file", pf, "--shards", missing); code == 0 ||
		!strings.Contains(errOut, `create bucket "nobucket"`) || strings.Contains(errOut, miniotest.Password) {
		t.Fatalf("vault create on a missing bucket: exit %d %s", code, errOut)
	}
	if out := d.must("vault", "list"); strings.Contains(out, "s3bad") {
		t.Fatalf("a failed vault create left a vault:\n%s", out)
	}
	d.must("vault", "create", "s3v", "--passphrase-file", pf, "--shards", strings.Join(specs, ","),
		"--data-shards", "4", "--parity-shards", "2")

	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	disk := filepath.Join(d.dir, "disk.img")
	want := rawDisk(t, disk, 24)
	d.must("item", "add", "s3share", "--vault", "s3v", "--share", src)
	d.must("item", "add", "s3disk", "--vault", "s3v", "--disk", disk)
	d.must("backup", "s3share", "--vault", "s3v")
	d.must("backup", "s3disk", "--vault", "s3v")

	srvs[1].Kill() // shards 2 and 3 are gone
	dst := filepath.Join(d.dir, "restored-share")
	d.must("restore", "share", "s3share", "--vault", "s3v", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)
	out := filepath.Join(d.dir, "restored.img")
	d.must("restore", "disk", "s3disk", "--vault", "s3v", "--point", "latest", "--to", out, "--verify")
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("restored disk differs from the source (%v)", err)
	}
	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	d.must("mount", mnt, "--vault", "s3v")
	latest, err := filepath.EvalSymlinks(filepath.Join(mnt, "s3share", "latest"))
	if err != nil {
		t.Fatal(err)
	}
	compareTrees(t, src, latest)
	if got, err := os.ReadFile(filepath.Join(mnt, "s3disk", "latest", "disk.img")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("disk.img through the mount differs (%v)", err)
	}
	d.must("umount", mnt)

	if err := os.WriteFile(filepath.Join(src, "while-down.bin"), bytes.Repeat([]byte("new data "), 1<<17), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := d.run("backup", "s3share", "--vault", "s3v"); code == 0 {
		t.Fatal("a backup that must write shards succeeded with 2 of 6 targets down")
	}
	var points []map[string]any
	d.jsonOf(&points, "points", "s3share", "--vault", "s3v")
	if len(points) != 1 {
		t.Fatalf("a failed backup left a point: %v", points)
	}

	srvs[1].Restart(t)
	d.must("backup", "s3share", "--vault", "s3v")
	if st := jobStatus(t, d.must("verify", "s3v", "--read-data", "--json")); st != "completed" {
		t.Fatalf("verify after restart: %s", st)
	}
	lost := loseShards(t, specs[2])
	stdout, _, _ := d.run("verify", "s3v", "--json") // exits non-zero: warnings
	if st := jobStatus(t, stdout); st != "completed-with-warnings" {
		t.Fatalf("verify with %d shard objects lost: %s", lost, st)
	}
	d.must("repair", "s3v")
	if st := jobStatus(t, d.must("verify", "s3v", "--read-data", "--json")); st != "completed" {
		t.Fatalf("verify after repair: %s", st)
	}
	if n := countObjects(t, specs[2]); n != lost {
		t.Errorf("repair put back %d of %d lost shard objects", n, lost)
	}

	// Lose the backup host: delete the whole data directory, start afresh,
	// attach the vault from its MinIO targets, restore again.
	if err := d.kill(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(d.data); err != nil {
		t.Fatal(err)
	}
	d.start()
	// The lost host's owner lease is still live: the drill needs --takeover.
	d.must("vault", "attach", "s3v", "--shards", strings.Join(specs, ","), "--passphrase-file", pf, "--takeover")
	dst2 := filepath.Join(d.dir, "restored-after-attach")
	d.must("restore", "share", "s3share", "--vault", "s3v", "--point", "latest", "--to", dst2)
	compareTrees(t, src, dst2)
	out2 := filepath.Join(d.dir, "restored-after-attach.img")
	d.must("restore", "disk", "s3disk", "--vault", "s3v", "--point", "latest", "--to", out2)
	if got, err := os.ReadFile(out2); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("disk restored after attach differs (%v)", err)
	}
}

// loseShards deletes every segment shard object under spec, as if the disk
// under that prefix had been replaced, and returns how many there were.
func loseShards(t *testing.T, spec string) int {
	tg, err := s3.Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var names []string
	tg.List(ctx, "seg/", func(n string, _ int64) error { names = append(names, n); return nil })
	for _, n := range names {
		if err := tg.Delete(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if len(names) == 0 {
		t.Fatalf("no shard objects under %s", tg.Name())
	}
	return len(names)
}

func countObjects(t *testing.T, spec string) int {
	tg, err := s3.Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := tg.List(context.Background(), "seg/", func(string, int64) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkVaultThroughput times one full backup and one restore of a raw
// disk (1/2 random, 1/4 repeated, 1/4 zero) through the daemon, into a 4+2
// vault on six local directories and on three MinIO servers on loopback.
// Run: go test ./tests/ -run '^$' -bench VaultThroughput -benchtime 1x
func BenchmarkVaultThroughput(b *testing.B) {
	for _, kind := range []string{"dir", "s3"} {
		b.Run(kind, func(b *testing.B) {
			d := startDaemon(b, "")
			var specs []string
			if kind == "s3" {
				_, specs = s3Vault(b, false)
			} else {
				for i := 0; i < 6; i++ {
					specs = append(specs, filepath.Join(d.dir, fmt.Sprintf("shard%d", i)))
				}
			}
			pf := filepath.Join(d.dir, "pass")
			os.WriteFile(pf, []byte("bench passphrase\n"), 0o600)
			d.must("vault", "create", "bv", "--passphrase-file", pf, "--shards", strings.Join(specs, ","))
			const mib = 256
			disk := filepath.Join(d.dir, "disk.img")
			rawDisk(b, disk, mib)
			d.must("item", "add", "bdisk", "--vault", "bv", "--disk", disk)
			b.ResetTimer()
			start := time.Now()
			d.must("backup", "bdisk", "--vault", "bv")
			backup := time.Since(start)
			start = time.Now()
			d.must("restore", "disk", "bdisk", "--vault", "bv", "--point", "latest", "--to", filepath.Join(d.dir, "out.img"))
			restore := time.Since(start)
			b.ReportMetric(mib/backup.Seconds(), "backup-MiB/s")
			b.ReportMetric(mib/restore.Seconds(), "restore-MiB/s")
		})
	}
}
