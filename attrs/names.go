package attrs

// A NameTable names the attributes of one attribute set, for naming the
// attributes in the paths of errors (a kernel's extended ack points at an
// attribute by its nest path). Names[t] names attribute type t; for a nest,
// Links[t] says which set the nest holds.
type NameTable struct {
	Names []string
	Links []NameLink
}

// A NameLink says which set a nest holds: Set is that set's index in its
// [NameTables] plus one (0: no set known), and Skip is how many levels of
// array indexes or keys come before the set's attributes (1 for an indexed
// array, the number of keys for a type-value nest).
type NameLink struct {
	Set  uint16
	Skip uint8
}

// NameTables are the attribute sets of a family that error paths can name,
// linked by their nests.
type NameTables []NameTable

// Name names attribute typ found inside the nests parents (outermost first,
// array indexes and keys included) of set number set. It returns "" when the
// path leaves the known sets, ends on an index or key rather than an
// attribute, or names a type the set does not name.
func (ts NameTables) Name(set int, parents []uint16, typ uint16) string {
	if set < 0 || set >= len(ts) {
		return ""
	}
	for i := 0; i < len(parents); {
		links := ts[set].Links
		p := parents[i]
		if int(p) >= len(links) || links[p].Set == 0 || int(links[p].Set) > len(ts) {
			return ""
		}
		l := links[p]
		i += 1 + int(l.Skip)
		if i > len(parents) {
			return "" // an index or key, not an attribute
		}
		set = int(l.Set) - 1
	}
	if names := ts[set].Names; int(typ) < len(names) {
		return names[typ]
	}
	return ""
}
