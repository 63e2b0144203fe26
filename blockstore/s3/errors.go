package s3

import (
	"errors"
	"fmt"

	"github.com/minio/minio-go/v7"
	"github.com/rewind-backup/rewind/blockstore"
)

func isNotExist(err error) bool {
	if err == nil {
		return false
	}
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NoSuchVersion":
		return true
	}
	return false
}

// wrap names the target, the operation and the fix; a missing object becomes
// blockstore.ErrNotExist.
func (t *Target) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if isNotExist(err) {
		return fmt.Errorf("%s: %s %s: %w", t.Name(), op, name, blockstore.ErrNotExist)
	}
	return fmt.Errorf("%s: %s %s: %w%s%s", t.Name(), op, name, err, status(err), t.hint(err))
}

// status adds the HTTP status and S3 code a server's error message may lack.
func status(err error) string {
	er := minio.ToErrorResponse(err)
	if er.StatusCode == 0 {
		return ""
	}
	return fmt.Sprintf(" (HTTP %d %s)", er.StatusCode, er.Code)
}

// hint suggests the fix for the failures an operator can fix.
func (t *Target) hint(err error) string {
	er := minio.ToErrorResponse(err)
	switch {
	case er.Code == "NoSuchBucket":
		return fmt.Sprintf(" (create bucket %q on %s, with object lock if immutability is wanted)", t.cfg.Bucket, t.cfg.Endpoint)
	case er.Code == "AccessDenied" || er.Code == "InvalidAccessKeyId" || er.Code == "SignatureDoesNotMatch":
		return " (check the access and secret key in creds= or REWIND_S3_ACCESS_KEY/REWIND_S3_SECRET_KEY, and the bucket policy)"
	case isTLSConfig(err):
		return " (give the server's CA certificate with ca=/path.pem, or check tls= and the host name)"
	case isNetwork(err) && !errors.Is(err, errShort):
		return fmt.Sprintf(" (is the server at %s up and reachable? check tls= and the port)", t.cfg.Endpoint)
	}
	return ""
}
