package guest

import (
	"strconv"
	"strings"
)

// lvmSection is one "name { … }" block of LVM2 text metadata. Values are
// string, int64 or []any of those.
type lvmSection struct {
	vals  map[string]any
	subs  map[string]*lvmSection
	order []string // sub-section names in file order
}

func (s *lvmSection) str(k string) string {
	v, _ := s.vals[k].(string)
	return v
}

func (s *lvmSection) num(k string) (int64, bool) {
	v, ok := s.vals[k].(int64)
	return v, ok
}

func (s *lvmSection) list(k string) []any {
	v, _ := s.vals[k].([]any)
	return v
}

const (
	lvmMaxDepth   = 32
	lvmMaxEntries = 1 << 16 // keys, sections and list items in the whole text
)

// parseLVMText parses the config-file syntax LVM2 uses for its metadata:
//
//	key = "string" | 123 | [ "a", 1, … ]
//	name { … }
//
// with # comments. It is strict: anything else is an error.
func parseLVMText(text string) (*lvmSection, error) {
	p := &lvmParser{s: text}
	root, err := p.section(0)
	if err != nil {
		return nil, err
	}
	if p.peek() != 0 {
		return nil, corruptf("LVM metadata: unexpected %q at byte %d", p.s[p.i], p.i)
	}
	return root, nil
}

type lvmParser struct {
	s     string
	i     int
	count int
}

func (p *lvmParser) skip() {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0:
			p.i++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end.
func (p *lvmParser) peek() byte {
	p.skip()
	if p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func isIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-.+/", c) >= 0
}

func (p *lvmParser) ident() string {
	p.skip()
	j := p.i
	for p.i < len(p.s) && isIdent(p.s[p.i]) {
		p.i++
	}
	return p.s[j:p.i]
}

func (p *lvmParser) section(depth int) (*lvmSection, error) {
	if depth > lvmMaxDepth {
		return nil, corruptf("LVM metadata: nested too deeply")
	}
	sec := &lvmSection{vals: map[string]any{}, subs: map[string]*lvmSection{}}
	for {
		c := p.peek()
		if c == 0 || c == '}' {
			return sec, nil
		}
		if p.count++; p.count > lvmMaxEntries {
			return nil, corruptf("LVM metadata: too many entries")
		}
		name := p.ident()
		if name == "" {
			return nil, corruptf("LVM metadata: expected a name at byte %d", p.i)
		}
		switch p.peek() {
		case '{':
			p.i++
			sub, err := p.section(depth + 1)
			if err != nil {
				return nil, err
			}
			if p.peek() != '}' {
				return nil, corruptf("LVM metadata: section %q not closed", name)
			}
			p.i++
			if _, dup := sec.subs[name]; !dup {
				sec.order = append(sec.order, name)
			}
			sec.subs[name] = sub
		case '=':
			p.i++
			v, err := p.value(depth)
			if err != nil {
				return nil, err
			}
			sec.vals[name] = v
		default:
			return nil, corruptf("LVM metadata: expected '=' or '{' after %q", name)
		}
	}
}

func (p *lvmParser) value(depth int) (any, error) {
	switch c := p.peek(); {
	case c == '"':
		return p.quoted()
	case c == '[':
		if depth > lvmMaxDepth {
			return nil, corruptf("LVM metadata: nested too deeply")
		}
		p.i++
		var out []any
		for {
			if p.peek() == ']' {
				p.i++
				return out, nil
			}
			if p.count++; p.count > lvmMaxEntries {
				return nil, corruptf("LVM metadata: too many entries")
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			if p.peek() == ',' {
				p.i++
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		tok := p.ident()
		if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(tok, 64); err == nil {
			return int64(f), nil
		}
		return nil, corruptf("LVM metadata: bad number %q", tok)
	default:
		return nil, corruptf("LVM metadata: bad value at byte %d", p.i)
	}
}

func (p *lvmParser) quoted() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", corruptf("LVM metadata: unterminated string")
}
