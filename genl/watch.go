package genl

import (
	"errors"
	"net"
	"os"
	"time"
)

// The watcher: how a subscribed socket waits.
//
// A receiver that waits in its own netpoller read (RawConn.Read) must look
// at the socket once before it parks: the read begins by clearing the
// readiness the poller recorded, so a datagram queued since the previous
// receive would otherwise go unnoticed under edge-triggered epoll. For a
// subscriber that look finds nothing nearly every time (it has just
// drained the queue), and on a guest where a system call costs more than a
// microsecond it is a quarter of the calls per notification.
//
// While the Conn has subscriptions and the program runs one processor
// (GOMAXPROCS 1, as in a one-CPU container), a watcher goroutine instead
// stays in
// one RawConn.Read for as long as it runs: its callback reads nothing and
// only signals watchReady, and as it never leaves the read, no readiness
// is cleared. A receiver whose last receive drained the queue (the
// non-blocking recvmmsg returned fewer datagrams than asked, or none)
// waits on watchReady without looking: a datagram queued after that
// receive raises an epoll event, so the watcher signals after it. A
// signal with nothing queued costs one receive that finds nothing.
//
// The watcher hands each wake-up to the receiver through a channel. With
// one processor that hand-off is a goroutine switch and costs less than
// the system call it saves (median CPU per notification against YNL C's,
// docs/benchmarks.md: 1.24-1.33 against 1.34-1.50 without). With more,
// readying the receiver wakes an idle processor's thread (a futex wake
// and its spin), which costs more than the call: 3.1 against 1.45. So a
// wait checks GOMAXPROCS, and a watcher left running when it has grown is
// stopped by the next wait.
//
// Interrupts (SetReadDeadline) reach a receiver waiting on watchReady
// through the same channel; the file's own deadline is left alone while
// the watcher runs, except to stop it (stopWatcherLocked), after which the
// file takes the transport's deadline again.

// setWatch tells the transport whether the Conn has subscriptions, which
// decides whether its waits go through a watcher. A watcher that runs
// when they end is stopped.
func (t *sockTransport) setWatch(on bool) {
	t.dlMu.Lock()
	defer t.dlMu.Unlock()
	t.watchWanted = on
	if !on {
		t.stopWatcherLocked()
	}
}

// startWatcherLocked starts the watcher; the fd is registered.
func (t *sockTransport) startWatcherLocked() {
	f := t.poll.Load()
	// The file's deadline is the transport's until now, and no past one
	// (the caller checked): the watcher's read must not end on it.
	_ = f.SetReadDeadline(time.Time{})
	if t.watchReady == nil {
		t.watchReady = make(chan struct{}, 1)
	}
	t.watchRunning, t.watchKicked = true, false
	t.watchDone = make(chan struct{})
	t.armWatchDeadlineLocked()
	go t.watch(t.watchDone)
}

// stopWatcherLocked makes a running watcher leave its read with a past
// deadline on the file; it then ends (see watch).
func (t *sockTransport) stopWatcherLocked() {
	if !t.watchRunning || t.watchKicked || t.closing.Load() {
		return
	}
	t.watchKicked = true
	if err := t.poll.Load().SetReadDeadline(time.Unix(1, 0)); err != nil {
		// Only a closed file refuses; Close ends the watcher then.
		t.watchKicked = false
	}
}

// watch is the watcher goroutine: one netpoller read whose callback signals
// watchReady at each wake-up and never ends it. A past deadline (the stop)
// or Close ends the read.
func (t *sockTransport) watch(done chan struct{}) {
	_ = t.rc.Read(t.watchWake)
	t.dlMu.Lock()
	t.watchRunning, t.watchKicked = false, false
	if t.watchTimer != nil {
		t.watchTimer.Stop()
		t.watchTimer = nil
	}
	if !t.closing.Load() {
		_ = t.poll.Load().SetReadDeadline(t.fileDeadline())
	}
	t.dlMu.Unlock()
	t.signalWatch()
	close(done)
}

// watchWake is the watcher's read callback.
func (t *sockTransport) watchWake(uintptr) bool {
	t.signalWatch()
	return false
}

func (t *sockTransport) signalWatch() {
	select {
	case t.watchReady <- struct{}{}:
	default:
	}
}

// armWatchDeadlineLocked makes the transport's deadline wake a receiver
// waiting on the watcher: at once when it has passed, by a timer when it
// is ahead.
func (t *sockTransport) armWatchDeadlineLocked() {
	if t.watchTimer != nil {
		t.watchTimer.Stop()
		t.watchTimer = nil
	}
	dl := t.fileDeadline()
	if dl.IsZero() {
		return
	}
	if d := time.Until(dl); d > 0 {
		t.watchTimer = time.AfterFunc(d, t.signalWatch)
		return
	}
	t.signalWatch()
}

// errWatcherGone tells waitRecv that the watcher ended while a receiver
// waited on it: wait again, the other way or with a new watcher.
var errWatcherGone = errors.New("genl: watcher ended")

// watchRecv receives up to n datagrams into d, waiting on the watcher for
// the socket to become readable. It returns -1 only with an error.
func (t *sockTransport) watchRecv(d []Datagram, n int, mmsg bool) (int, error) {
	for {
		if !t.drained {
			// The last receive may have left datagrams queued, or a
			// signal was taken without a receive after it.
			if got, err := t.recvOnce(d, n, mmsg); got >= 0 || err != nil {
				return got, err
			}
		}
		<-t.watchReady
		t.drained = false
		if t.closing.Load() {
			return -1, net.ErrClosed
		}
		if t.deadlinePassed() {
			return -1, os.ErrDeadlineExceeded
		}
		t.dlMu.Lock()
		running := t.watchRunning
		t.dlMu.Unlock()
		if !running {
			return -1, errWatcherGone
		}
	}
}
