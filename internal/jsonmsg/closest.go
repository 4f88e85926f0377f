package jsonmsg

// Closest returns the candidate nearest to name by edit distance, when it is
// near enough to be a plausible typo (at most a third of name's length,
// and at least 1, or a candidate that has name as a prefix); "" otherwise.
func Closest(name string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := distance(name, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	limit := max(len(name)/3, 1)
	if bestD <= limit {
		return best
	}
	for _, c := range candidates {
		if len(name) >= 3 && len(c) > len(name) && c[:len(name)] == name {
			return c
		}
	}
	return ""
}

// distance is the Levenshtein distance between a and b, case-insensitive
// for ASCII letters.
func distance(a, b string) int {
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if lower(a[i-1]) == lower(b[j-1]) {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
