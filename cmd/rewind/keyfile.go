package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

var keyFileFlag = &cli.StringFlag{Name: "key-file", Usage: "open the vault key with this key file (from \"vault key export\") instead of the passphrase"}

// maxKeyFile bounds what --key-file reads: a key file is about 110 bytes.
const maxKeyFile = 4 << 10

// vaultCredential reads the vault NAME argument and either its key file
// (--key-file) or its passphrase; never both.
func vaultCredential(c *cli.Context) (name, pass string, keyFile []byte, err error) {
	f := c.String("key-file")
	if f == "" {
		name, pass, err = vaultAndPassphrase(c, false)
		return name, pass, nil, err
	}
	if c.String("passphrase-file") != "" {
		return "", "", nil, usagef("give --key-file or --passphrase-file, not both")
	}
	if name, err = oneArg(c, "vault NAME"); err != nil {
		return "", "", nil, err
	}
	keyFile, err = readKeyFile(f)
	return name, "", keyFile, err
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("key file: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(b) > maxKeyFile || len(b) == 0 {
		return nil, usagef("key file %s is not a rewind key file (%d bytes): give the file \"rewind vault key export\" wrote", path, len(b))
	}
	return b, nil
}
