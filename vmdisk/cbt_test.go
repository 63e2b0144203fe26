package vmdisk

import (
	"errors"
	"strings"
	"testing"
)

func TestChangedBlocksList(t *testing.T) {
	const size = 64 << 20
	cases := []struct {
		name, in string
		blocks   []int64 // blocks that must be in the set
		absent   []int64
		err      string // substring of the error, "" for valid
		entry    int
	}{
		{"rbd diff", `[{"offset":0,"length":4096,"exists":"true"},{"offset":8388608,"length":4194304,"exists":"false"}]`, []int64{0, 2}, []int64{1, 3}, "", 0},
		{"plain unaligned", `[{"offset":4194000,"length":1000}]`, []int64{0, 1}, []int64{2}, "", 0},
		{"touching", `[{"offset":0,"length":10},{"offset":10,"length":10}]`, []int64{0}, []int64{1}, "", 0},
		{"bool exists", `[{"offset":0,"length":1,"exists":true}]`, []int64{0}, nil, "", 0},
		{"empty", `[]`, nil, []int64{0}, "", 0},
		{"last byte", `[{"offset":67108863,"length":1}]`, []int64{15}, nil, "", 0},
		{"overlapping", `[{"offset":0,"length":100},{"offset":50,"length":100}]`, nil, nil, "overlaps", 1},
		{"unsorted", `[{"offset":8388608,"length":1},{"offset":0,"length":1}]`, nil, nil, "sorted", 1},
		{"out of range", `[{"offset":67108864,"length":1}]`, nil, nil, "beyond the disk", 0},
		{"overflow", `[{"offset":1,"length":9223372036854775807}]`, nil, nil, "beyond the disk", 0},
		{"negative", `[{"offset":-1,"length":1}]`, nil, nil, ">= 0", 0},
		{"zero length", `[{"offset":0,"length":0}]`, nil, nil, "length > 0", 0},
		{"missing length", `[{"offset":0}]`, nil, nil, "missing", 0},
		{"unknown field", `[{"offset":0,"len":5}]`, nil, nil, "unknown field", 0},
		{"float", `[{"offset":1.5,"length":1}]`, nil, nil, "not an", 0},
		{"bad exists", `[{"offset":0,"length":1,"exists":"maybe"}]`, nil, nil, "exists", 0},
		{"garbage", `hello`, nil, nil, "not a JSON array", -1},
		{"object", `{"offset":0}`, nil, nil, "not a JSON array", -1},
		{"truncated", `[{"offset":0,"length":1}`, nil, nil, "terminated", -1},
		{"trailing", `[] x`, nil, nil, "trailing", -1},
		{"not objects", `[1,2]`, nil, nil, "not an", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := parseChangedBlocks("cbt.json", []byte(tc.in), size)
			if tc.err != "" {
				var ce *ChangedBlocksError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.err) || ce.Entry != tc.entry {
					t.Fatalf("got %v, want a ChangedBlocksError at entry %d mentioning %q", err, tc.entry, tc.err)
				}
				if !strings.Contains(err.Error(), "cbt.json") || !strings.Contains(err.Error(), "fix the list") {
					t.Fatalf("error does not name the file and the fix: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range tc.blocks {
				if !set.has(b) {
					t.Errorf("block %d missing", b)
				}
			}
			for _, b := range tc.absent {
				if set.has(b) {
					t.Errorf("block %d should not be changed", b)
				}
			}
		})
	}
}
