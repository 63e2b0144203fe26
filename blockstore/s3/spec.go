package s3

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is a parsed target spec. Secret holds a credential: never print it.
type Config struct {
	Endpoint  string // HOST:PORT
	Bucket    string
	Prefix    string // without leading or trailing slash; may be empty
	Region    string // default "us-east-1"
	TLS       bool
	CAFile    string // extra PEM roots for TLS
	PathStyle bool   // path-style addressing (MinIO); else virtual-host style
	Access    string // access key id
	Secret    string // secret key
	CredsFile string // where Access/Secret came from, if a file

	CacheDir  string // local read cache directory; empty: no cache
	CacheSize int64  // cache bound in bytes (default 1 GiB)

	LockMode string        // "", "GOVERNANCE" or "COMPLIANCE": retention put on every object
	LockFor  time.Duration // retention period for LockMode (lock-days=)
}

// DefaultCacheSize bounds a read cache whose spec gives no cache-size.
const DefaultCacheSize = 1 << 30

// IsSpec reports whether spec names an S3 target.
func IsSpec(spec string) bool { return strings.HasPrefix(spec, "s3://") }

// ParseSpec parses an s3:// spec and loads its credentials (creds= file,
// else REWIND_S3_ACCESS_KEY/REWIND_S3_SECRET_KEY, else AWS_ACCESS_KEY_ID/
// AWS_SECRET_ACCESS_KEY). An access key in the spec overrides the loaded one.
func ParseSpec(spec string) (Config, error) {
	var c Config
	if !IsSpec(spec) {
		return c, fmt.Errorf("s3 target %q: spec must start with s3://", spec)
	}
	u, err := url.Parse(spec)
	if err != nil {
		return c, fmt.Errorf("s3 target %q: %w: use s3://[ACCESS@]HOST:PORT/BUCKET[/PREFIX]?options", redact(spec), err)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return c, fmt.Errorf("s3 target %q: a secret key in the spec is refused: put it in a creds= file or REWIND_S3_SECRET_KEY", redact(spec))
		}
	}
	if err := c.fromURL(u); err != nil {
		return c, fmt.Errorf("s3 target %q: %w", redact(spec), err)
	}
	if err := c.loadCreds(u); err != nil {
		return c, fmt.Errorf("s3 target %s: %w", c.Name(), err)
	}
	return c, nil
}

func (c *Config) fromURL(u *url.URL) error {
	c.Endpoint = u.Host
	if u.Hostname() == "" || u.Port() == "" {
		return fmt.Errorf("want HOST:PORT after s3://")
	}
	path := strings.Trim(u.Path, "/")
	c.Bucket, c.Prefix, _ = strings.Cut(path, "/")
	if c.Bucket == "" {
		return fmt.Errorf("no bucket: want s3://HOST:PORT/BUCKET[/PREFIX]")
	}
	if !validBucket(c.Bucket) {
		return fmt.Errorf("bucket name %q: want 3-63 lowercase letters, digits, dots and hyphens", c.Bucket)
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	return c.options(u.Query())
}

func (c *Config) options(q url.Values) error {
	c.Region = "us-east-1"
	c.CacheSize = DefaultCacheSize
	for k, vs := range q {
		if err := c.option(k, vs[len(vs)-1]); err != nil {
			return err
		}
	}
	if c.LockMode != "" && c.LockFor <= 0 {
		return fmt.Errorf("lock=%s needs lock-days=N (N > 0)", strings.ToLower(c.LockMode))
	}
	return nil
}

func (c *Config) option(k, v string) error {
	var err error
	switch k {
	case "region":
		c.Region = v
	case "tls":
		c.TLS, err = parseBool(k, v)
	case "path-style":
		c.PathStyle, err = parseBool(k, v)
	case "ca":
		c.CAFile = v
	case "creds":
		c.CredsFile = v
	case "cache":
		c.CacheDir = v
	case "cache-size":
		c.CacheSize, err = parseSize(v)
	case "lock":
		c.LockMode, err = parseLockMode(v)
	case "lock-days":
		var n int
		n, err = strconv.Atoi(v)
		c.LockFor = time.Duration(n) * 24 * time.Hour
	default:
		return fmt.Errorf("unknown option %q: known are region, tls, ca, path-style, creds, cache, cache-size, lock, lock-days", k)
	}
	if err != nil {
		return fmt.Errorf("option %s=%q: %w", k, v, err)
	}
	return nil
}

func parseBool(k, v string) (bool, error) {
	switch v {
	case "1", "true", "yes":
		return true, nil
	case "0", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("want %s=0 or %s=1", k, k)
}

func parseLockMode(v string) (string, error) {
	switch strings.ToUpper(v) {
	case "GOVERNANCE", "COMPLIANCE":
		return strings.ToUpper(v), nil
	}
	return "", fmt.Errorf("want lock=governance or lock=compliance")
}

// parseSize reads a byte count with an optional K, M, G or T suffix (powers of 1024).
func parseSize(v string) (int64, error) {
	mult := int64(1)
	s := strings.TrimSuffix(strings.ToUpper(v), "B")
	if i := strings.IndexAny(s, "KMGT"); i >= 0 && i == len(s)-1 {
		mult = int64(1) << (10 * (strings.IndexByte("KMGT", s[i]) + 1))
		s = s[:i]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("want a positive size such as 512M or 1G")
	}
	return n * mult, nil
}

// Name identifies the target without credentials: s3://HOST:PORT/BUCKET[/PREFIX].
func (c Config) Name() string {
	n := "s3://" + c.Endpoint + "/" + c.Bucket
	if c.Prefix != "" {
		n += "/" + c.Prefix
	}
	return n
}

// redact drops any userinfo from a spec for messages.
func redact(spec string) string {
	rest := strings.TrimPrefix(spec, "s3://")
	if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
		rest = rest[at+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	return "s3://" + rest
}

// validBucket applies S3's bucket naming rules.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, r := range b {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && (r != '.' && r != '-' || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return true
}
