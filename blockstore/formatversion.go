package blockstore

// FormatMajorVersion numbers the changes to what rewind writes anywhere —
// the block store, the catalog, and the objects of disk and share points —
// in one sequence, like pebble's FormatMajorVersion. A change to any
// on-disk structure adds a version here, a fixture written by that
// version (listed in Fixtures), and a section in FORMAT.md; readers keep
// reading every older version's fixtures.
type FormatMajorVersion uint32

const (
	// FormatInitial: store marker "RWBS" 1, catalog {"v":1}, disk block
	// maps 1, share objects 1 (times as int64 nanoseconds since 1970, so
	// only 1677..2262; no sockets).
	FormatInitial FormatMajorVersion = 1
	// FormatShareTimes: share objects 2 (times as seconds and nanoseconds
	// at any date; sockets as entry type 7). Everything else as FormatInitial.
	FormatShareTimes FormatMajorVersion = 2

	// FormatNewest is what this build writes.
	FormatNewest = FormatShareTimes
)

// Fixtures lists, per version, the golden fixtures (paths from the
// repository root) written by that version's code; tests read each of
// them. A version that changed only one structure lists only its fixture.
var Fixtures = map[FormatMajorVersion][]string{
	FormatInitial: {
		"blockstore/testdata/golden-v1",
		"vault/testdata/golden-host-v1",
		"vault/testdata/records.golden.json",
		"fileshare/testdata/objects-v1.golden",
	},
	FormatShareTimes: {
		"fileshare/testdata/objects-v2.golden",
	},
}
