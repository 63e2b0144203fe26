package s3_test

import (
	"strings"
	"testing"

	"github.com/rewind-backup/rewind/blockstore/s3"
)

// FuzzParseSpec: any spec string parses or fails without panicking, and
// neither the error nor the target name ever carries the secret key.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"s3://h:9000/b", "s3://AK@h:443/b/p?tls=1&cache-size=1G", "s3://a:b@h:1/b",
		"s3://h:1/bkt?lock=compliance&lock-days=3", "s3://[::1]:9000/b/p/q?region=x", "s3://h:1/b?cache-size=9999999999T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		const secret = "fuzz-secret-value"
		t.Setenv("REWIND_S3_ACCESS_KEY", "ak")
		t.Setenv("REWIND_S3_SECRET_KEY", secret)
		c, err := s3.ParseSpec(spec)
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
			return
		}
		if strings.Contains(c.Name(), secret) || c.Access != "ak" && !strings.Contains(spec, c.Access+"@") {
			t.Fatalf("name %q carries credentials", c.Name())
		}
	})
}
