package vault

import (
	"context"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ab", true},
		{"prod-1", true},
		{"Prod-Vault-2026", true},
		{"a" + strings.Repeat("b", 49), true},
		{"a" + strings.Repeat("b", 50), false},
		{"a", false},
		{"", false},
		{"1prod", false},
		{"-prod", false},
		{"prod_1", false},
		{"prod.1", false},
		{"prod 1", false},
		{"prød", false},
		{"a/b", false},
	} {
		if got := ValidName(tc.name); got != tc.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestCreateRefusesBadNameQuotingRule(t *testing.T) {
	h, _, _, _ := testVault(t)
	_, err := h.Create(context.Background(), "9lives", testPass, CreateOptions{})
	wantErr(t, err, ErrInvalid, `"9lives"`, NameRule)
	_, err = h.Create(context.Background(), "PROD-1", testPass, CreateOptions{})
	wantErr(t, err, ErrExists, "already exists")
	_, err = h.Create(context.Background(), "other", nil, CreateOptions{})
	wantErr(t, err, ErrInvalid, "passphrase")
	_, err = h.Create(context.Background(), "other", testPass, CreateOptions{Layout: StorageLayout{DataShards: 2, ParityShards: 1, Targets: []string{"/a"}}})
	wantErr(t, err, ErrInvalid, "exactly 3 targets")
}
