package s3

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// minio-go sleeps a jittered backoff after a failed try even when it will
// not try again; retry.go does all waiting, so that sleep is made zero.
func init() {
	minio.DefaultRetryUnit, minio.DefaultRetryCap = 0, 0
}

// newClient builds the minio-go client: our own transport (timeouts, CA) and
// no library retries, since retry.go bounds them itself.
func newClient(c Config) (*minio.Client, error) {
	tr, err := transport(c)
	if err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupDNS
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	cl, err := minio.New(c.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(c.Access, c.Secret, ""),
		Secure:       c.TLS,
		Transport:    tr,
		Region:       c.Region,
		BucketLookup: lookup,
		MaxRetries:   1,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 target %s: %w", c.Name(), err)
	}
	return cl, nil
}

func transport(c Config) (*http.Transport, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	if !c.TLS {
		return tr, nil
	}
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile == "" {
		return tr, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("s3 target %s: read CA file: %w", c.Name(), err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("s3 target %s: CA file %s holds no PEM certificate: give ca= a PEM file", c.Name(), c.CAFile)
	}
	tr.TLSClientConfig.RootCAs = pool
	return tr, nil
}
