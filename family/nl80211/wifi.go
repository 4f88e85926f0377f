package nl80211

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"os"
	"time"

	"github.com/genlkit/genlkit/genl"
)

// This file is the layer mdlayher/wifi users know: interfaces, the BSS an
// interface is associated with, scans and station statistics as plain Go
// values, on top of the generated operations.

// An InterfaceType is an interface type (enum nl80211_iftype).
type InterfaceType uint32

// Interface types.
const (
	InterfaceTypeUnspecified InterfaceType = iota
	InterfaceTypeAdHoc
	InterfaceTypeStation
	InterfaceTypeAP
	InterfaceTypeAPVLAN
	InterfaceTypeWDS
	InterfaceTypeMonitor
	InterfaceTypeMeshPoint
	InterfaceTypeP2PClient
	InterfaceTypeP2PGroupOwner
	InterfaceTypeP2PDevice
	InterfaceTypeOCB
	InterfaceTypeNAN
)

var interfaceTypeNames = [...]string{"unspecified", "IBSS", "managed", "AP", "AP/VLAN", "WDS", "monitor", "mesh point", "P2P-client", "P2P-GO", "P2P-device", "outside context of a BSS", "NAN"}

// String returns the type as iw(8) names it ("managed", "AP").
func (t InterfaceType) String() string {
	if int(t) < len(interfaceTypeNames) {
		return interfaceTypeNames[t]
	}
	return fmt.Sprintf("InterfaceType(%d)", uint32(t))
}

// An Interface is a wireless interface (or a device without a netdev,
// such as a P2P device, whose Index is 0).
type Interface struct {
	Index        int
	Name         string
	HardwareAddr net.HardwareAddr
	PHY          int    // the wiphy index
	Device       uint64 // the wireless device (wdev) identifier
	Type         InterfaceType
	Frequency    int    // MHz; 0 when the interface is on no channel
	SSID         string // of the BSS the interface is in, if any
}

// Interfaces lists the wireless interfaces (get-interface dump).
func (c *Client) Interfaces(ctx context.Context) ([]*Interface, error) {
	var out []*Interface
	for a, err := range c.GetInterfaceDump(ctx, nil) {
		if err != nil {
			return nil, err
		}
		out = append(out, &Interface{
			Index:        int(a.Ifindex.Value),
			Name:         a.Ifname.Value,
			HardwareAddr: a.MAC,
			PHY:          int(a.Wiphy.Value),
			Device:       a.Wdev.Value,
			Type:         InterfaceType(a.Iftype.Value),
			Frequency:    int(a.WiphyFreq.Value),
			SSID:         string(a.SSID),
		})
	}
	return out, nil
}

// A BSSStatus is an interface's relation to a BSS (enum
// nl80211_bss_status).
type BSSStatus uint32

// BSS statuses. BSSStatusNone is not on the wire: the attribute is absent.
const (
	BSSStatusAuthenticated BSSStatus = 0
	BSSStatusAssociated    BSSStatus = 1
	BSSStatusIBSSJoined    BSSStatus = 2
	BSSStatusNone          BSSStatus = 0xffffffff
)

// String returns the status's name.
func (s BSSStatus) String() string {
	switch s {
	case BSSStatusAuthenticated:
		return "authenticated"
	case BSSStatusAssociated:
		return "associated"
	case BSSStatusIBSSJoined:
		return "IBSS joined"
	case BSSStatusNone:
		return "none"
	}
	return fmt.Sprintf("BSSStatus(%d)", uint32(s))
}

// A BSS is a basic service set (an access point or IBSS) as a scan found
// it, with its information elements decoded.
type BSS struct {
	SSID           string
	BSSID          net.HardwareAddr
	Frequency      int // MHz
	BeaconInterval time.Duration
	// LastSeen is how long ago the BSS was last seen.
	LastSeen time.Duration
	Status   BSSStatus
	// Signal is the signal strength in mBm (100 * dBm) when the driver
	// reports dBm (SignalValid).
	Signal      int
	SignalValid bool
	TSF         uint64
	Capability  uint16
	// RSN and Load are the BSS's RSN and BSS load elements, nil when it
	// sends none.
	RSN  *RSN
	Load *BSSLoad
	// Elements are the information elements decoded; ElementsErr is the
	// first malformed element (from the air), whose field stays empty
	// while the others are filled.
	Elements    *ElementInfo
	ElementsErr error
	// Attrs is the BSS nest as decoded, with everything the kernel sent.
	Attrs *BSSAttrs
}

// NewBSS builds a BSS from a decoded bss nest.
func NewBSS(a *BSSAttrs) *BSS {
	b := &BSS{
		BSSID:          a.BSSID,
		Frequency:      int(a.Frequency.Value),
		BeaconInterval: time.Duration(a.BeaconInterval.Value) * 1024 * time.Microsecond,
		LastSeen:       time.Duration(a.SeenMsAgo.Value) * time.Millisecond,
		Status:         BSSStatusNone,
		Signal:         int(a.SignalMbm.Value),
		SignalValid:    a.SignalMbm.Valid,
		TSF:            a.Tsf.Value,
		Capability:     a.Capability.Value,
		Attrs:          a,
	}
	if a.Status.Valid {
		b.Status = BSSStatus(a.Status.Value)
	}
	ies := a.InformationElements
	if ies == nil {
		ies = a.BeaconIEs
	}
	b.Elements, b.ElementsErr = ParseElements(ies)
	b.SSID, b.RSN, b.Load = string(b.Elements.SSID), b.Elements.RSN, b.Elements.BSSLoad
	return b
}

// ScanResults dumps the scan results of the interface (get-scan): the
// BSSs the kernel knows of, from the last scans. The kernel marks a dump
// interrupted when its list changes meanwhile (as beacons arrive);
// ScanResults then dumps again, up to dumpRetries times, and returns the
// last results with an error matching genl.ErrDumpInterrupted when every
// attempt was interrupted.
func (c *Client) ScanResults(ctx context.Context, ifindex int) ([]*BSS, error) {
	return collect(func() iter.Seq2[*Attrs, error] {
		return c.GetScanDump(ctx, &GetScanDumpRequest{Ifindex: Some(uint32(ifindex))})
	}, func(a *Attrs) *BSS {
		if a.BSS == nil {
			return nil
		}
		return NewBSS(a.BSS)
	})
}

// dumpRetries bounds how often collect runs a dump again after the kernel
// marked it interrupted.
const dumpRetries = 5

// collect runs the dump that dump starts and converts its messages with
// conv (dropping nil results), running it again when the kernel marked it
// interrupted (see ScanResults).
func collect[T any](dump func() iter.Seq2[*Attrs, error], conv func(*Attrs) *T) ([]*T, error) {
	for attempt := 0; ; attempt++ {
		var out []*T
		var err error
		for a, e := range dump() {
			if e != nil {
				err = e
				break
			}
			if v := conv(a); v != nil {
				out = append(out, v)
			}
		}
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, genl.ErrDumpInterrupted) && attempt < dumpRetries:
			continue
		case errors.Is(err, genl.ErrDumpInterrupted):
			return out, err
		default:
			return nil, err
		}
	}
}

// BSS returns the BSS the interface is associated with or has joined. It
// returns an error matching os.ErrNotExist when there is none.
func (c *Client) BSS(ctx context.Context, ifindex int) (*BSS, error) {
	// Only the BSS with a status is decoded further.
	all, err := collect(func() iter.Seq2[*Attrs, error] {
		return c.GetScanDump(ctx, &GetScanDumpRequest{Ifindex: Some(uint32(ifindex))})
	}, func(a *Attrs) *BSS {
		if a.BSS == nil || !a.BSS.Status.Valid {
			return nil
		}
		if s := BSSStatus(a.BSS.Status.Value); s != BSSStatusAssociated && s != BSSStatusIBSSJoined {
			return nil
		}
		return NewBSS(a.BSS)
	})
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: interface %d is associated with no BSS: %w", FamilyName, ifindex, os.ErrNotExist)
	}
	return all[0], nil
}

// ErrScanAborted is matched by the error of a scan the kernel aborted
// (scan-aborted).
var ErrScanAborted = errors.New("scan aborted")

// Scan scans on the interface and returns the results: it triggers a scan
// with req (nil: every channel, the wildcard SSID; req.Ifindex is set to
// ifindex), waits for the scan group to report it done (new-scan-results)
// or aborted (scan-aborted, ErrScanAborted) for that interface, then dumps
// the results. ctx bounds the whole; a kernel busy with another scan
// gives EBUSY.
func (c *Client) Scan(ctx context.Context, ifindex int, req *TriggerScanRequest) ([]*BSS, error) {
	if err := c.TriggerScanWait(ctx, ifindex, req); err != nil {
		return nil, err
	}
	return c.ScanResults(ctx, ifindex)
}

// TriggerScanWait triggers a scan on the interface (see Scan) and waits
// until the kernel reports it finished or aborted.
func (c *Client) TriggerScanWait(ctx context.Context, ifindex int, req *TriggerScanRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var r TriggerScanRequest
	if req != nil {
		r = *req
	}
	r.Ifindex = Some(uint32(ifindex))
	// Join the group first: the scan may end before a later join.
	sub, err := c.Subscribe(ctx, GroupScan)
	if err != nil {
		return err
	}
	defer sub.Close()
	if err := c.TriggerScan(ctx, &r); err != nil {
		return err
	}
	for {
		n, err := sub.Next(ctx)
		if err != nil {
			return opError("trigger-scan", fmt.Errorf("waiting for the results: %w", err))
		}
		switch n := n.(type) {
		case *NewScanResults:
			if n.Ifindex.Value == r.Ifindex.Value {
				return nil
			}
		case *ScanAborted:
			if n.Ifindex.Value == r.Ifindex.Value {
				return opError("trigger-scan", fmt.Errorf("interface %d: %w", ifindex, ErrScanAborted))
			}
		}
	}
}

// StationInfo is a station's statistics: for a client interface its AP,
// for an AP each associated client.
type StationInfo struct {
	InterfaceIndex int
	HardwareAddr   net.HardwareAddr
	Connected      time.Duration
	Inactive       time.Duration
	// Byte counters are 64-bit where the kernel sends them so, else the
	// 32-bit ones.
	ReceivedBytes      uint64
	TransmittedBytes   uint64
	ReceivedPackets    uint32
	TransmittedPackets uint32
	// Bitrates in bit/s, 0 when unknown.
	ReceiveBitrate  int
	TransmitBitrate int
	Signal          int // dBm
	SignalAverage   int // dBm
	TransmitRetries uint32
	TransmitFailed  uint32
	BeaconLoss      uint32
	// Attrs is the sta-info nest as decoded.
	Attrs *StaInfoAttrs
}

// NewStationInfo builds a StationInfo from a get-station reply.
func NewStationInfo(a *Attrs) *StationInfo {
	si := a.StaInfo
	if si == nil {
		si = new(StaInfoAttrs)
	}
	return &StationInfo{
		InterfaceIndex:     int(a.Ifindex.Value),
		HardwareAddr:       a.MAC,
		Connected:          time.Duration(si.ConnectedTime.Value) * time.Second,
		Inactive:           time.Duration(si.InactiveTime.Value) * time.Millisecond,
		ReceivedBytes:      counter64(si.RxBytes64, si.RxBytes),
		TransmittedBytes:   counter64(si.TxBytes64, si.TxBytes),
		ReceivedPackets:    si.RxPackets.Value,
		TransmittedPackets: si.TxPackets.Value,
		ReceiveBitrate:     si.RxBitrate.BitsPerSecond(),
		TransmitBitrate:    si.TxBitrate.BitsPerSecond(),
		Signal:             int(si.Signal.Value),
		SignalAverage:      int(si.SignalAvg.Value),
		TransmitRetries:    si.TxRetries.Value,
		TransmitFailed:     si.TxFailed.Value,
		BeaconLoss:         si.BeaconLoss.Value,
		Attrs:              si,
	}
}

func counter64(v64 Optional[uint64], v32 Optional[uint32]) uint64 {
	if v64.Valid {
		return v64.Value
	}
	return uint64(v32.Value)
}

// BitsPerSecond returns the rate in bit/s: bitrate32, else bitrate (both
// in 100 kbit/s); 0 for a nil rate or one without either.
func (r *RateInfoAttrs) BitsPerSecond() int {
	switch {
	case r == nil:
		return 0
	case r.Bitrate32.Valid:
		return int(r.Bitrate32.Value) * 100_000
	default:
		return int(r.Bitrate.Value) * 100_000
	}
}

// StationInfo dumps the stations of the interface (get-station); an
// interrupted dump is run again as ScanResults does.
func (c *Client) StationInfo(ctx context.Context, ifindex int) ([]*StationInfo, error) {
	return collect(func() iter.Seq2[*Attrs, error] {
		return c.GetStationDump(ctx, &GetStationDumpRequest{Ifindex: Some(uint32(ifindex))})
	}, NewStationInfo)
}
