package genl

import "fmt"

// An Option configures a Conn in Dial or NewConn.
type Option func(*config) error

type config struct {
	netnsFD        int
	netnsPath      string
	pid            uint32
	readBuffer     int
	writeBuffer    int
	recvBufSize    int
	recvBatch      int
	groups         []uint32
	noENOBUFS      bool
	broadcastError bool
	listenAllNSID  bool
	subQueueLimit  int
	onWarning      func(*Error)
}

func defaultConfig() config {
	return config{recvBufSize: defaultRecvBufSize, recvBatch: defaultRecvBatch, subQueueLimit: 4 << 20}
}

// defaultRecvBatch is the default number of receive slots of an rxBuf: the
// most datagrams one receive asks for.
const defaultRecvBatch = 4

// defaultRecvBufSize is the default size of a receive slot: the largest
// dump part the kernel builds for a reader.
const defaultRecvBufSize = 32 << 10

// WithNetNS makes the Conn operate in a network namespace given by name (a
// file under /run/netns, as `ip netns` makes) or by absolute path (for
// example /proc/1234/ns/net).
func WithNetNS(name string) Option {
	return func(c *config) error {
		if name == "" {
			return fmt.Errorf("genl: empty network namespace name")
		}
		c.netnsPath = netnsPath(name)
		return nil
	}
}

// WithNetNSFD makes the Conn operate in the network namespace the open file
// descriptor fd refers to. The caller keeps ownership of fd.
func WithNetNSFD(fd int) Option {
	return func(c *config) error {
		if fd <= 0 {
			return fmt.Errorf("genl: bad network namespace fd %d", fd)
		}
		c.netnsFD = fd
		return nil
	}
}

// WithPortID binds the socket to a fixed netlink port id instead of one the
// kernel picks (netlink.Config.PID).
func WithPortID(pid uint32) Option {
	return func(c *config) error { c.pid = pid; return nil }
}

// WithReadBuffer sets the socket's receive buffer (SO_RCVBUF, forced when
// privileged). A larger buffer makes multicast overruns rarer and lets more
// requests be in flight at once (see Conn's flow control).
func WithReadBuffer(bytes int) Option {
	return func(c *config) error { c.readBuffer = bytes; return nil }
}

// WithWriteBuffer sets the socket's send buffer (SO_SNDBUF). Requests sent
// together are split into sendmsgs the buffer accepts; a single request
// longer than the buffer fails with EMSGSIZE.
func WithWriteBuffer(bytes int) Option {
	return func(c *config) error { c.writeBuffer = bytes; return nil }
}

// WithMessageBufferSize sets the size of each user-space receive slot
// (netlink.Config.MessageBufferSize); the default and minimum is 32 KiB, the
// largest dump part the kernel builds for a reader. A datagram larger than a
// slot is reported as truncated.
func WithMessageBufferSize(bytes int) Option {
	return func(c *config) error {
		c.recvBufSize = max(bytes, 32<<10)
		return nil
	}
}

// WithReceiveBatch sets how many datagrams one receive system call
// (recvmmsg) may collect, 1 to 16; the default is 4.
func WithReceiveBatch(n int) Option {
	return func(c *config) error {
		if n < 1 || n > maxRecvBatch {
			return fmt.Errorf("genl: receive batch %d out of range 1..%d", n, maxRecvBatch)
		}
		c.recvBatch = n
		return nil
	}
}

// WithGroups joins multicast groups by id when the Conn is made, like
// netlink.Config.Groups but without the 32-group limit. Notifications from
// joined groups go to subscriptions (Conn.Subscribe) and are counted as
// unrouted when there are none.
func WithGroups(ids ...uint32) Option {
	return func(c *config) error { c.groups = append(c.groups, ids...); return nil }
}

// WithNoENOBUFS sets NETLINK_NO_ENOBUFS: the kernel stops reporting
// receive-buffer overruns, so lost notifications go unnoticed.
func WithNoENOBUFS() Option {
	return func(c *config) error { c.noENOBUFS = true; return nil }
}

// WithBroadcastError sets NETLINK_BROADCAST_ERROR.
func WithBroadcastError() Option {
	return func(c *config) error { c.broadcastError = true; return nil }
}

// WithListenAllNSID sets NETLINK_LISTEN_ALL_NSID.
func WithListenAllNSID() Option {
	return func(c *config) error { c.listenAllNSID = true; return nil }
}

// WithSubscriptionLimit bounds the bytes of notifications queued for one
// subscription that is not keeping up; past it notifications are dropped and
// reported on the stream as an overrun. The default is 4 MiB.
func WithSubscriptionLimit(bytes int) Option {
	return func(c *config) error { c.subQueueLimit = max(bytes, 64<<10); return nil }
}

// WithWarningHandler sets the function that receives warnings: requests the
// kernel acknowledged with success and an extended ACK message. A Request's
// own OnWarning takes precedence.
func WithWarningHandler(fn func(*Error)) Option {
	return func(c *config) error { c.onWarning = fn; return nil }
}
