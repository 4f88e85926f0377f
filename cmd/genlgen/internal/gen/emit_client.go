package gen

import (
	"fmt"
	"strconv"
)

func (g *generator) genClient(f *file) {
	p := g.p
	ctx := contextPkg.Ident("Context")
	conn := genlPkg.Ident("Conn")
	fam := familyPkg.Ident("Family")

	f.Comment(wrap("Client is a typed client for the "+p.spec.Name+" family on a genl.Conn, built on a family.Client. "+
		"It is safe for concurrent use. Each operation checks first that the running kernel's family has it "+
		"(errors match family.ErrNotSupported), encodes the request into a buffer the Client reuses, "+
		"and decodes replies straight from the receive buffer.", 76))
	f.P("type Client struct {")
	f.P("core *", familyPkg.Ident("Client"))
	f.P("}")
	f.P()
	f.P("// An Option configures a Client.")
	f.P("type Option = ", familyPkg.Ident("ClientOption"))
	f.P()
	f.P("// WithResolver resolves the family through r, a cache shared with other")
	f.P("// clients that follows the family if it is registered again; by default")
	f.P("// New asks the kernel once.")
	f.P("func WithResolver(r *", familyPkg.Ident("Resolver"), ") Option { return ", familyPkg.Ident("WithResolver"), "(r) }")
	f.P()
	f.P("// WithFamily uses fam, already resolved on the Conn, instead of asking the")
	f.P("// kernel.")
	f.P("func WithFamily(fam *", fam, ") Option { return ", familyPkg.Ident("WithFamily"), "(fam) }")
	f.P()
	f.P("// New returns a Client for the ", p.spec.Name, " family on conn, resolving the family")
	f.P("// (its id, operations and groups). A kernel without the family gives an error")
	f.P("// matching family.ErrNotFound.")
	f.P("func New(ctx ", ctx, ", conn *", conn, ", opts ...Option) (*Client, error) {")
	f.P("core, err := ", familyPkg.Ident("NewClient"), "(ctx, conn, FamilyName, FamilyVersion, opts...)")
	f.P("if err != nil {")
	f.P("return nil, err")
	f.P("}")
	f.P("return &Client{core: core}, nil")
	f.P("}")
	f.P()
	f.P("// Conn returns the Conn the Client sends on.")
	f.P("func (c *Client) Conn() *", conn, " { return c.core.Conn() }")
	f.P()
	f.P("// Family returns the family as the running kernel reported it to New.")
	f.P("func (c *Client) Family() *", fam, " { return c.core.Family() }")
	f.P()
	if len(p.ops) == 0 {
		return
	}
	hasCall := false
	for _, o := range p.ops {
		if o.do != nil || o.dump != nil {
			hasCall = true
		}
	}
	if !hasCall {
		return
	}
	g.use("opError")

	for _, o := range p.ops {
		for _, c := range []*call{o.do, o.dump} {
			if c != nil {
				g.genCall(f, o, c)
			}
		}
	}
	g.genNamers(f)
}

func (g *generator) genCall(f *file, o *op, c *call) {
	so := o.spec
	ctx := contextPkg.Ident("Context")
	form := "do"
	if c.dump {
		form = "dump"
	}
	reqAttrs := "no request attributes"
	if c.req != nil && len(c.req.Attributes) > 0 {
		reqAttrs = "request attributes " + attrList(c.req.Attributes)
	}
	mech := fmt.Sprintf("%s sends %s %s (%s, command %d): %s", c.method, g.p.spec.Name, so.Name, form, c.cmd, reqAttrs)
	switch {
	case c.reply != nil && len(c.reply.Attributes) == 0:
		mech += fmt.Sprintf("; the reply carries no attributes (set %s)", o.set.spec.Name)
	case c.reply != nil:
		mech += fmt.Sprintf("; reply attributes %s of set %s", attrList(c.reply.Attributes), o.set.spec.Name)
	case c.dump:
		mech += "; replies of set " + o.set.spec.Name
	default:
		mech += "; the kernel only acknowledges it"
	}
	mech += "."
	if o.header != nil {
		mech += fmt.Sprintf(" Messages carry the fixed header %s.", o.header.def.Name)
	}
	if c.dump {
		mech += " It yields one value per reply message; an error ends the dump unless it is a reply that failed to decode."
	}
	if !c.dump && c.replyTyp != "" {
		mech += " The reply is taken from memory chunks shared with other decoded values: keeping it keeps its chunks alive (see attrs.Slab)."
	}
	if c.hasReq {
		mech += " A nil req sends no attributes."
	}
	if len(so.Flags) > 0 {
		mech += fmt.Sprintf(" Spec flags: %v.", so.Flags)
	}
	g.doc(f, mech, so.Doc)

	var params []any
	params = append(params, "ctx ", ctx)
	hdrLen := "0"
	if o.header != nil {
		params = append(params, ", hdr ", o.header.name)
		hdrLen = o.header.sizeC
	}
	if c.hasReq {
		params = append(params, ", req *", c.reqTyp.name)
	}
	namer := "nil"
	if c.hasReq && o.set.root.namerV != "" {
		namer = o.set.root.namerV
	}
	name := strconv.Quote(so.Name)

	if c.dump {
		f.P("func (c *Client) ", c.method, "(", params, ") ", iterPkg.Ident("Seq2"), "[*", c.replyTyp, ", error] {")
		f.P("return func(yield func(*", c.replyTyp, ", error) bool) {")
		g.startDump(f, o, c, hdrLen, namer, func(err string) string { return "yield(nil, " + err + ")\nreturn" })
		f.P("for m, err := range c.core.Conn().Dump(ctx, r) {")
		f.P("if err != nil {")
		f.P("yield(nil, opError(", name, ", err))")
		f.P("return")
		f.P("}")
		f.P("rep := a.", slabMethod(c.replyTyp), "().New()")
		f.P("if err := rep.", g.decodeNewCall(c.replyTyp), "(m.Data, a); err != nil {")
		f.P("if !yield(nil, opError(", name, ", err)) {")
		f.P("return")
		f.P("}")
		f.P("continue")
		f.P("}")
		f.P("if !yield(rep, nil) {")
		f.P("return")
		f.P("}")
		f.P("}")
		f.P("}")
		f.P("}")
		f.P()
		g.genDumpAppend(f, o, c, params, hdrLen, namer)
		return
	}
	if c.replyTyp != "" {
		f.P("func (c *Client) ", c.method, "(", params, ") (*", c.replyTyp, ", error) {")
	} else {
		f.P("func (c *Client) ", c.method, "(", params, ") error {")
	}
	ret := "return err"
	retWrap := "return opError(" + name + ", err)"
	if c.replyTyp != "" {
		ret = "return nil, err"
		retWrap = "return nil, opError(" + name + ", err)"
	}
	f.P("fam, err := c.core.Check(ctx, ", c.cmdExpr, ", ", name, ", false)")
	f.P("if err != nil {")
	f.P(ret)
	f.P("}")
	g.encodeRequest(f, o, c, hdrLen, retWrap)
	f.P("r, err := b.Request(fam, ", c.cmdExpr, ", ", namer, ")")
	f.P("if err != nil {")
	f.P(retWrap)
	f.P("}")
	if c.replyTyp != "" {
		f.P("r.ReplyDeclared = true")
		// The reply and what it refers to come from a pooled allocator,
		// as a dump's do: a few shared chunks instead of an allocation
		// per value, which per request costs more than the decoding.
		f.P("a := allocators.Get().(*allocator)")
		f.P("rep := a.", slabMethod(c.replyTyp), "().New()")
		if g.hasDecodeNew(c.replyTyp) {
			// The first message meets a zero value: the fast path's case.
			// A reply in several messages adds the others to it.
			f.P("first := true")
			f.P("err = c.core.Conn().Do(ctx, r, func(m ", genlPkg.Ident("Message"), ") error {")
			f.P("if first {")
			f.P("first = false")
			f.P("return rep.decodeNew(m.Data, a)")
			f.P("}")
			f.P("return rep.decodeMessage(m.Data, a)")
			f.P("})")
		} else {
			f.P("err = c.core.Conn().Do(ctx, r, func(m ", genlPkg.Ident("Message"), ") error { return rep.decodeMessage(m.Data, a) })")
		}
		f.P("allocators.Put(a)")
		f.P("if err != nil {")
		f.P(retWrap)
		f.P("}")
		f.P("return rep, nil")
	} else {
		f.P("if err := c.core.Conn().Do(ctx, r, nil); err != nil {")
		f.P(retWrap)
		f.P("}")
		f.P("return nil")
	}
	f.P("}")
	f.P()
}

// encodeRequest prints the encoding of a call's fixed header and request
// into a pooled buffer b; fail is the statement run on error.
// startDump prints the start of a dump method of call c of op o: the
// family check, the request's encoding, the genl.Request r and a pooled
// allocator a; fail(err) is the statement a method of its kind ends with
// on error err.
func (g *generator) startDump(f *file, o *op, c *call, hdrLen, namer string, fail func(err string) string) {
	name := strconv.Quote(o.spec.Name)
	f.P("fam, err := c.core.Check(ctx, ", c.cmdExpr, ", ", name, ", true)")
	f.P("if err != nil {")
	f.P(fail("err"))
	f.P("}")
	g.encodeRequest(f, o, c, hdrLen, fail("opError("+name+", err)"))
	f.P("r, err := b.Request(fam, ", c.cmdExpr, ", ", namer, ")")
	f.P("if err != nil {")
	f.P(fail("opError(" + name + ", err)"))
	f.P("}")
	f.P("a := allocators.Get().(*allocator)")
	f.P("defer allocators.Put(a)")
}

func (g *generator) encodeRequest(f *file, o *op, c *call, hdrLen, fail string) {
	f.P("b := c.core.Buffer(", hdrLen, ")")
	f.P("defer c.core.Release(b)")
	if o.header != nil {
		f.P("if err := hdr.put(b.Header()); err != nil {")
		f.P(fail)
		f.P("}")
	}
	if c.hasReq {
		f.P("if req != nil {")
		f.P("if err := req.encode(b.Encoder()); err != nil {")
		f.P(fail)
		f.P("}")
		f.P("}")
	}
}

// genNamers prints the tables that name attributes in the paths of kernel
// errors about a request (genl.Request.Names).
func (g *generator) genNamers(f *file) {
	p := g.p
	any := false
	for _, s := range p.roots {
		if s.namerV != "" {
			any = true
		}
	}
	if !any {
		return
	}
	f.P("// attrTables describes the root attribute sets for naming attributes in")
	f.P("// error paths: names by type, and for nests the set inside (index + 1) and")
	f.P("// how many levels of array indexes or keys come first.")
	f.P("var attrTables = ", attrsPkg.Ident("NameTables"), "{")
	for _, s := range p.roots {
		f.P("{ // ", s.spec.Name)
		f.P("Names: ", s.namesV, ",")
		var links []string
		for _, fl := range s.fields {
			var target *set
			skip := 0
			switch {
			case fl.tv != nil && fl.tv.el.kind == kNest:
				target, skip = fl.tv.el.set, len(fl.tv.keys)
			case fl.idx && fl.el.kind == kNest:
				target, skip = fl.el.set, 1
			case fl.el.kind == kNest && fl.tv == nil:
				target = fl.el.set
			}
			if target != nil {
				links = append(links, fmt.Sprintf("%d: {Set: %d, Skip: %d}", fl.attr.Value, target.root.index+1, skip))
			}
		}
		if len(links) > 0 {
			f.P("Links: []", attrsPkg.Ident("NameLink"), "{")
			for _, l := range links {
				f.P(l, ",")
			}
			f.P("},")
		}
		f.P("},")
	}
	f.P("}")
	f.P()
	for _, s := range p.roots {
		if s.namerV == "" {
			continue
		}
		f.P("var ", s.namerV, " ", genlPkg.Ident("AttrNamer"), " = func(parents []uint16, typ uint16) string {")
		f.P("return attrTables.Name(", s.index, ", parents, typ)")
		f.P("}")
		f.P()
	}
}
