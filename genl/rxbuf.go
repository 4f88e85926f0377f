package genl

import "sync"

// An rxBuf is a set of receive slots for one recvmmsg. A slot's memory is
// taken when a receive first needs it (one slot for a lone do-request, the
// batch for a dump) and given back when the rxBuf is released: the default
// 32 KiB slots go to a pool all Conns share, so an idle Conn holds none.
type rxBuf struct {
	d    []Datagram
	size int // bytes per slot
}

// slotPool holds free receive slots of the default size.
var slotPool sync.Pool // *[defaultRecvBufSize]byte

// rxPool holds rxBufs of the default shape (see shared), with the slots
// they have taken, for every Conn. A lone caller takes one per request and
// gives it back when done: one pool round trip, where taking each slot
// from slotPool and giving it back cost one per slot. An idle Conn still
// holds no slots.
var rxPool sync.Pool // *rxBuf

// shared reports whether rx has the default shape (defaultRecvBatch slots
// of defaultRecvBufSize), which rxPool holds.
func (rx *rxBuf) shared() bool {
	return rx.size == defaultRecvBufSize && len(rx.d) == defaultRecvBatch
}

// putShared gives rx, of the default shape, with its slots to rxPool.
// Nothing may refer to what was received into them any more.
func (rx *rxBuf) putShared() {
	rxPool.Put(rx)
}

// fill gives the first n slots memory.
func (rx *rxBuf) fill(n int) {
	for i := range rx.d[:n] {
		if rx.d[i].Buf != nil {
			continue
		}
		if rx.size == defaultRecvBufSize {
			if p, _ := slotPool.Get().(*[defaultRecvBufSize]byte); p != nil {
				rx.d[i].Buf = p[:]
				continue
			}
		}
		rx.d[i].Buf = make([]byte, rx.size)
	}
}

// release gives the slots' memory back. Nothing may refer to what was
// received into them any more.
func (rx *rxBuf) release() {
	for i := range rx.d {
		if b := rx.d[i].Buf; b != nil {
			rx.d[i] = Datagram{}
			if len(b) == defaultRecvBufSize {
				slotPool.Put((*[defaultRecvBufSize]byte)(b))
			}
		}
	}
}

// takeRx takes cl's receive buffer, if any; cl may be nil.
func (cl *call) takeRx() *rxBuf {
	if cl == nil {
		return nil
	}
	rx := cl.rx
	cl.rx = nil
	return rx
}

func (c *Conn) getRxLocked() *rxBuf {
	if c.cfg.recvBufSize == defaultRecvBufSize && c.cfg.recvBatch == defaultRecvBatch {
		if rx, _ := rxPool.Get().(*rxBuf); rx != nil {
			return rx
		}
	}
	if n := len(c.freeRx); n > 0 {
		rx := c.freeRx[n-1]
		c.freeRx = c.freeRx[:n-1]
		return rx
	}
	return &rxBuf{d: make([]Datagram, c.cfg.recvBatch), size: c.cfg.recvBufSize}
}

// putRxLocked keeps rx for reuse: one of the default shape goes to rxPool
// with its slots, another stays with the Conn, its slots given back (see
// rxBuf.release). rx may be nil.
func (c *Conn) putRxLocked(rx *rxBuf) {
	if rx == nil {
		return
	}
	if rx.shared() {
		rx.putShared()
		return
	}
	rx.release()
	if len(c.freeRx) < 4 {
		c.freeRx = append(c.freeRx, rx)
	}
}
