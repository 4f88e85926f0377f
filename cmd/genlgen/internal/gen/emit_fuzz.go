package gen

// genFuzz prints FuzzDecode: arbitrary bytes decoded as each attribute set
// must not panic, must decode to the same value (or error) with and
// without an allocator, and whatever decodes must encode and decode again
// to the same value.
func (g *generator) genFuzz(f *file) {
	p := g.p
	if len(p.sets) == 0 {
		return
	}
	t := testingPkg.Ident
	recycled := map[*set]bool{}
	if g.allocUses().pool {
		for _, s := range g.recycleSets() {
			recycled[s] = true
		}
	}
	f.P("// FuzzDecode decodes arbitrary bytes as attribute set number which (modulo")
	f.P("// the number of sets). Decoding must not panic, and a value that decodes")
	f.P("// must survive MarshalAttrs and UnmarshalAttrs unchanged. Decoding with an")
	f.P("// allocator, as dumps do, must give the same value or error, twice over")
	f.P("// (the second decode must not change the first value).")
	if len(recycled) > 0 {
		f.P("// A set dumps decode must decode the same into a recycled value as into")
		f.P("// a fresh one.")
	}
	anyFast, anyFastReuse := false, false
	for _, s := range p.sets {
		anyFast = anyFast || g.fastSet(s)
		anyFastReuse = anyFastReuse || g.fastSet(s) && recycled[s]
	}
	if anyFast {
		f.P("// Where a set has a fast path (decodeFast), whatever it takes must decode")
		f.P("// to the value the Decoder gives, and the Decoder must take it too.")
	}
	f.P("func FuzzDecode(f *", t("F"), ") {")
	f.P("for i := range ", len(p.sets), " {")
	f.P("f.Add(uint8(i), []byte{})")
	f.P("f.Add(uint8(i), []byte{4, 0, 1, 0, 8, 0, 2, 0, 1, 0, 0, 0})")
	f.P("f.Add(uint8(i), []byte{12, 0, 1, 0x80, 8, 0, 1, 0, 1, 2, 3, 4})")
	f.P("}")
	f.P("f.Fuzz(func(t *", t("T"), ", which uint8, b []byte) {")
	if len(p.sets) == 1 {
		f.P("_ = which")
		f.P("roundTrip[", p.sets[0].name, "](t, b)")
		if recycled[p.sets[0]] {
			f.P("reuseTrip[", p.sets[0].name, "](t, b)")
		}
		g.fuzzFast(f, p.sets[0], recycled)
	} else {
		f.P("switch int(which) % ", len(p.sets), " {")
		for i, s := range p.sets {
			f.P("case ", i, ":")
			f.P("roundTrip[", s.name, "](t, b)")
			if recycled[s] {
				f.P("reuseTrip[", s.name, "](t, b)")
			}
			g.fuzzFast(f, s, recycled)
		}
		f.P("}")
	}
	f.P("})")
	f.P("}")
	f.P()
	f.P("type attrSet[T any] interface {")
	f.P("*T")
	f.P("MarshalAttrs(*", attrsPkg.Ident("Encoder"), ") error")
	f.P("UnmarshalAttrs([]byte) error")
	f.P("decode(*", attrsPkg.Ident("Decoder"), ", *allocator)")
	f.P("}")
	f.P()
	f.P("func roundTrip[T any, P attrSet[T]](t *", t("T"), ", b []byte) {")
	f.P("var v T")
	f.P("err := P(&v).UnmarshalAttrs(b)")
	f.P("a := new(allocator)")
	f.P("var s1, s2 T")
	f.P("var d1, d2 ", attrsPkg.Ident("Decoder"))
	f.P("d1.Reset(b)")
	f.P("P(&s1).decode(&d1, a)")
	f.P("d2.Reset(b)")
	f.P("P(&s2).decode(&d2, a)")
	f.P("if (err == nil) != (d1.Err() == nil) || !", reflectPkg.Ident("DeepEqual"), "(v, s1) || !", reflectPkg.Ident("DeepEqual"), "(v, s2) {")
	f.P("t.Fatalf(\"%T: decoding with an allocator differs:\\n%+v (%v)\\n%+v (%v)\", v, v, err, s1, d1.Err())")
	f.P("}")
	f.P("if err != nil {")
	f.P("return")
	f.P("}")
	f.P("var e ", attrsPkg.Ident("Encoder"))
	f.P("if err := P(&v).MarshalAttrs(&e); err != nil {")
	f.P("if ", errorsPkg.Ident("Is"), "(err, ", attrsPkg.Ident("ErrTooLong"), ") {")
	f.P("return // re-encoding can grow a value (a string gains its NUL)")
	f.P("}")
	f.P("t.Fatalf(\"%T: decoded value does not encode: %v\", v, err)")
	f.P("}")
	f.P("var w T")
	f.P("if err := P(&w).UnmarshalAttrs(e.Bytes()); err != nil {")
	f.P("t.Fatalf(\"%T: encoded value does not decode: %v\", v, err)")
	f.P("}")
	f.P("if !", reflectPkg.Ident("DeepEqual"), "(v, w) {")
	f.P("t.Fatalf(\"%T: round trip changed the value:\\n%+v\\n%+v\", v, v, w)")
	f.P("}")
	f.P("}")
	g.genFastTrips(f, anyFast, anyFastReuse)
	if len(recycled) == 0 {
		return
	}
	f.P()
	f.P("type recycler[T any] interface {")
	f.P("attrSet[T]")
	f.P("recycle(*allocator)")
	f.P("}")
	f.P()
	f.P("// reuseTrip decodes b with an allocator, recycles the value and decodes")
	f.P("// the second half of b into it, as a dump into reused memory would: the")
	f.P("// value and error must be those of the second half decoded on its own.")
	f.P("func reuseTrip[T any, P recycler[T]](t *", t("T"), ", b []byte) {")
	f.P("v, a, rest := recycled[T, P](b)")
	f.P("var d ", attrsPkg.Ident("Decoder"))
	f.P("d.Reset(rest)")
	f.P("P(v).decode(&d, a)")
	f.P("var w T")
	f.P("err := P(&w).UnmarshalAttrs(rest)")
	f.P("if (err == nil) != (d.Err() == nil) || !", reflectPkg.Ident("DeepEqual"), "(*v, w) {")
	f.P("t.Fatalf(\"%T: decoding into a recycled value differs:\\n%+v (%v)\\n%+v (%v)\", *v, *v, d.Err(), w, err)")
	f.P("}")
	f.P("}")
	f.P()
	f.P("// recycled decodes b with an allocator and recycles the value, as a dump")
	f.P("// into reused memory leaves the elements it reuses; it returns the value,")
	f.P("// the allocator and the half of b to decode into it next.")
	f.P("func recycled[T any, P recycler[T]](b []byte) (*T, *allocator, []byte) {")
	f.P("a := new(allocator)")
	f.P("var v T")
	f.P("var d ", attrsPkg.Ident("Decoder"))
	f.P("d.Reset(b)")
	f.P("P(&v).decode(&d, a)")
	f.P("P(&v).recycle(a)")
	f.P("return &v, a, b[len(b)/2:]")
	f.P("}")
}

// fuzzFast prints the fast-path checks of set s in FuzzDecode's switch.
func (g *generator) fuzzFast(f *file, s *set, recycled map[*set]bool) {
	if !g.fastSet(s) {
		return
	}
	f.P("fastTrip[", s.name, "](t, b)")
	if recycled[s] {
		f.P("fastReuseTrip[", s.name, "](t, b)")
	}
}

// genFastTrips prints the helpers fuzzFast calls: fastTrip when a set has
// a fast path, fastReuseTrip when one of those is also recycled.
func (g *generator) genFastTrips(f *file, anyFast, anyReuse bool) {
	if !anyFast {
		return
	}
	t := testingPkg.Ident
	f.P()
	f.P("type fastDecoder[T any] interface {")
	f.P("attrSet[T]")
	f.P("decodeFast([]byte, *allocator) bool")
	f.P("}")
	f.P()
	f.P("// fastTrip decodes b with the fast path, with and without an allocator:")
	f.P("// what it takes must be what UnmarshalAttrs gives, without error.")
	f.P("func fastTrip[T any, P fastDecoder[T]](t *", t("T"), ", b []byte) {")
	f.P("var v T")
	f.P("err := P(&v).UnmarshalAttrs(b)")
	f.P("for _, a := range []*allocator{nil, new(allocator)} {")
	f.P("var w T")
	f.P("if !P(&w).decodeFast(b, a) {")
	f.P("continue")
	f.P("}")
	f.P("if err != nil || !", reflectPkg.Ident("DeepEqual"), "(v, w) {")
	f.P("t.Fatalf(\"%T: the fast path differs from the Decoder:\\n%+v (%v)\\n%+v\", v, v, err, w)")
	f.P("}")
	f.P("}")
	f.P("}")
	if !anyReuse {
		return
	}
	f.P()
	f.P("type fastRecycler[T any] interface {")
	f.P("recycler[T]")
	f.P("decodeFast([]byte, *allocator) bool")
	f.P("}")
	f.P()
	f.P("// fastReuseTrip is reuseTrip for the fast path: the second half of b")
	f.P("// decoded by the fast path into a recycled value.")
	f.P("func fastReuseTrip[T any, P fastRecycler[T]](t *", t("T"), ", b []byte) {")
	f.P("v, a, rest := recycled[T, P](b)")
	f.P("if !P(v).decodeFast(rest, a) {")
	f.P("return")
	f.P("}")
	f.P("var w T")
	f.P("err := P(&w).UnmarshalAttrs(rest)")
	f.P("if err != nil || !", reflectPkg.Ident("DeepEqual"), "(*v, w) {")
	f.P("t.Fatalf(\"%T: the fast path into a recycled value differs:\\n%+v\\n%+v (%v)\", *v, *v, w, err)")
	f.P("}")
	f.P("}")
}
