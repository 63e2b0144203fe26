package guest

import (
	"fmt"
	"sort"
	"strings"
)

// A directory read from a damaged or hostile volume can hold names that are
// not one path element ("", ".", "..", anything with '/' or NUL) or the same
// name twice. Such entries are not dropped: each is shown under an escaped
// name, with Entry.RawName keeping the stored one so callers can warn.
//
// The escaped name is the stored name with '%' written as %25, '/' as %2F,
// NUL as %00 and a name made only of dots with each dot as %2E, followed by
// "~rewindN" where N counts from 1 and is the first number that makes the
// name unique in its directory. The encoded part is cut to 200 bytes (never
// inside a %XX) so the result stays a valid file name. Examples: "a/b" →
// "a%2Fb~rewind1", ".." → "%2E%2E~rewind1", a second "x" → "x~rewind1".

// maxEscapedStem bounds the encoded part of an escaped name.
const maxEscapedStem = 200

// escapeNames sorts ents by name and escapes invalid and repeated names.
func escapeNames(ents []Entry) []Entry {
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	taken := make(map[string]bool, len(ents))
	var bad []int
	for i := range ents {
		n := ents[i].Name
		if !validElem(n) || taken[n] {
			bad = append(bad, i)
			continue
		}
		taken[n] = true
	}
	if len(bad) == 0 {
		return ents
	}
	for _, i := range bad {
		raw := ents[i].Name
		ents[i].RawName = raw
		ents[i].Name = EscapeName(raw, func(s string) bool { return taken[s] })
		taken[ents[i].Name] = true
	}
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	return ents
}

// validElem reports whether name can be one path element.
func validElem(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// EscapeName returns the escaped form of a stored name raw (see the rule
// above), choosing the first "~rewindN" suffix for which taken is false.
func EscapeName(raw string, taken func(string) bool) string {
	stem := encodeStem(raw)
	for n := 1; ; n++ {
		s := fmt.Sprintf("%s~rewind%d", stem, n)
		if !taken(s) {
			return s
		}
	}
}

func encodeStem(raw string) string {
	dots := raw != "" && strings.Trim(raw, ".") == ""
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		var piece string
		switch c := raw[i]; {
		case c == '%':
			piece = "%25"
		case c == '/':
			piece = "%2F"
		case c == 0:
			piece = "%00"
		case c == '.' && dots:
			piece = "%2E"
		default:
			piece = string(c)
		}
		if b.Len()+len(piece) > maxEscapedStem {
			break
		}
		b.WriteString(piece)
	}
	return b.String()
}
