package s3_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore/s3"
)

func TestParseSpec(t *testing.T) {
	t.Setenv("REWIND_S3_ACCESS_KEY", "envaccess")
	t.Setenv("REWIND_S3_SECRET_KEY", "envsecret")
	cases := []struct {
		spec string
		want s3.Config
	}{
		{"s3://h:9000/bkt", s3.Config{Endpoint: "h:9000", Bucket: "bkt", Region: "us-east-1", Access: "envaccess", Secret: "envsecret", CacheSize: s3.DefaultCacheSize}},
		{"s3://AK@h:443/bkt/p/q/?region=eu-1&tls=1&path-style=1&ca=/ca.pem&cache=/c&cache-size=512M&lock=compliance&lock-days=7",
			s3.Config{Endpoint: "h:443", Bucket: "bkt", Prefix: "p/q", Region: "eu-1", TLS: true, PathStyle: true, CAFile: "/ca.pem",
				Access: "AK", Secret: "envsecret", CacheDir: "/c", CacheSize: 512 << 20, LockMode: "COMPLIANCE", LockFor: 7 * 24 * time.Hour}},
	}
	for _, c := range cases {
		got, err := s3.ParseSpec(c.spec)
		if err != nil || got != c.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	t.Setenv("REWIND_S3_ACCESS_KEY", "")
	t.Setenv("REWIND_S3_SECRET_KEY", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	for spec, want := range map[string]string{
		"s3://h/b":                        "HOST:PORT",
		"s3://h:1":                        "no bucket",
		"s3://h:1/B_x":                    "bucket name",
		"s3://h:1/bkt?tls=maybe":          "tls=0",
		"s3://h:1/bkt?colour=red":         "unknown option",
		"s3://h:1/bkt?lock=governance":    "lock-days",
		"s3://h:1/bkt?cache-size=lots":    "512M",
		"s3://h:1/bkt":                    "REWIND_S3_ACCESS_KEY",
		"s3://ak:hunter22@h:1/bkt":        "creds= file",
		"s3://h:1/bkt?creds=/nonexistent": "read credentials file",
	} {
		_, err := s3.ParseSpec(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSpec(%q) = %v, want error containing %q", spec, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter22") {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestCredsFile(t *testing.T) {
	dir := t.TempDir()
	for i, body := range []string{
		"AK1\nSK-secret-1\n",
		"# rewind\naccess_key = AK1\nsecret_key=SK-secret-1\n",
		"export AWS_ACCESS_KEY_ID=AK1\nexport AWS_SECRET_ACCESS_KEY=SK-secret-1\n",
	} {
		p := filepath.Join(dir, "c"+string(rune('0'+i)))
		os.WriteFile(p, []byte(body), 0o600)
		c, err := s3.ParseSpec("s3://h:1/bkt?creds=" + p)
		if err != nil || c.Access != "AK1" || c.Secret != "SK-secret-1" {
			t.Errorf("creds file %q: %q %v", body, c.Access, err)
		}
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("only-one-line-SK-secret-1\n"), 0o600)
	_, err := s3.ParseSpec("s3://h:1/bkt?creds=" + bad)
	if err == nil || strings.Contains(err.Error(), "SK-secret") {
		t.Errorf("bad creds file: %v", err)
	}
}
