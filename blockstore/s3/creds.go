package s3

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// loadCreds fills Access and Secret: creds file, then REWIND_S3_*, then AWS_*.
// The spec's user part, when present, names the access key.
func (c *Config) loadCreds(u *url.URL) error {
	var err error
	switch {
	case c.CredsFile != "":
		c.Access, c.Secret, err = readCredsFile(c.CredsFile)
	case os.Getenv("REWIND_S3_SECRET_KEY") != "":
		c.Access, c.Secret = os.Getenv("REWIND_S3_ACCESS_KEY"), os.Getenv("REWIND_S3_SECRET_KEY")
	default:
		c.Access, c.Secret = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if err != nil {
		return err
	}
	if u.User != nil && u.User.Username() != "" {
		c.Access = u.User.Username()
	}
	if c.Access == "" || c.Secret == "" {
		return fmt.Errorf("no credentials: give creds=/path/to/file (access and secret key, two lines or KEY=VALUE), or set REWIND_S3_ACCESS_KEY and REWIND_S3_SECRET_KEY")
	}
	return nil
}

// readCredsFile reads "ACCESS\nSECRET" or KEY=VALUE lines (access_key/secret_key,
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, REWIND_S3_ACCESS_KEY/…). Errors
// never quote the file's contents.
func readCredsFile(path string) (access, secret string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read credentials file: %w", err)
	}
	var plain []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			plain = append(plain, line)
			continue
		}
		switch credKey(k) {
		case "access":
			access = strings.TrimSpace(v)
		case "secret":
			secret = strings.TrimSpace(v)
		}
	}
	if access == "" && secret == "" && len(plain) == 2 {
		access, secret = plain[0], plain[1]
	}
	if access == "" || secret == "" {
		return "", "", fmt.Errorf("credentials file %s: want two lines (access key, secret key) or access_key=… and secret_key=…", path)
	}
	return access, secret, nil
}

func credKey(k string) string {
	k = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(k), "export ")))
	switch k {
	case "access", "access_key", "accesskey", "access_key_id", "aws_access_key_id", "rewind_s3_access_key", "minio_root_user":
		return "access"
	case "secret", "secret_key", "secretkey", "secret_access_key", "aws_secret_access_key", "rewind_s3_secret_key", "minio_root_password":
		return "secret"
	}
	return ""
}
