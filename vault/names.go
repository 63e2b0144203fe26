package vault

// NameRule is quoted in every refusal of a vault or item name.
const NameRule = "2–50 characters, starting with a letter, letters, digits and hyphens only"

// ValidName reports whether s follows NameRule. Vault, item and policy
// names share the rule (no '_' or '.', so a name is always a safe path
// element and a safe key segment).
func ValidName(s string) bool {
	if len(s) < 2 || len(s) > 50 || !isLetter(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func checkName(what, s string) error {
	if !ValidName(s) {
		return invalid("%s name %q is not allowed: use %s", what, s, NameRule)
	}
	return nil
}
