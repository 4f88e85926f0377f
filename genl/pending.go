package genl

// pendingTable maps sequence numbers to calls in flight. Sequence numbers
// are handed out in order, so a small table indexed by their low bits holds
// nearly every call; the rare collision (a call still pending 256 numbers
// later, such as a long dump) goes to a map.
type pendingTable struct {
	slots    [256]*call
	overflow map[uint32]*call
	n        int
}

func (p *pendingTable) get(seq uint32) *call {
	if cl := p.slots[seq&255]; cl != nil && cl.seq == seq {
		return cl
	}
	if len(p.overflow) == 0 {
		return nil
	}
	return p.overflow[seq]
}

func (p *pendingTable) put(cl *call) {
	p.n++
	if i := cl.seq & 255; p.slots[i] == nil {
		p.slots[i] = cl
		return
	}
	if p.overflow == nil {
		p.overflow = make(map[uint32]*call)
	}
	p.overflow[cl.seq] = cl
}

func (p *pendingTable) del(seq uint32) {
	if i := seq & 255; p.slots[i] != nil && p.slots[i].seq == seq {
		p.slots[i] = nil
		p.n--
		return
	}
	if _, ok := p.overflow[seq]; ok {
		delete(p.overflow, seq)
		p.n--
	}
}

func (p *pendingTable) len() int { return p.n }

// all returns the calls in flight, for the rare paths that walk them.
func (p *pendingTable) all() []*call {
	out := make([]*call, 0, p.n)
	for _, cl := range p.slots {
		if cl != nil {
			out = append(out, cl)
		}
	}
	for _, cl := range p.overflow {
		out = append(out, cl)
	}
	return out
}
