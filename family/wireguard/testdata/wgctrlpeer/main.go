// Command wgctrlpeer does the wireguard benchmarks' jobs with wgctrl-go, for
// comparison with genlkit in the same run. It is a module of its own so
// that wgctrl stays out of genlkit's go.mod; family/wireguard's benchmarks
// build it and drive it through standard input, one command a line:
//
//	device NAME N           read device NAME N times
//	configure NAME PEERS N  configure NAME with the benchmark's PEERS peers N times
//
// and it answers each with "ok CPU-NS RESULT": the process CPU time (user
// and system) the N calls took, and the number of peers the last call read
// or sent; or with "error TEXT".
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func main() {
	c, err := wgctrl.New()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	defer c.Close()
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	configs := map[int]wgtypes.Config{}
	for in.Scan() {
		f := strings.Fields(in.Text())
		n, _ := strconv.Atoi(f[len(f)-1])
		start := cpu()
		result := 0
		var err error
		switch {
		case len(f) == 3 && f[0] == "device":
			for range n {
				var d *wgtypes.Device
				if d, err = c.Device(f[1]); err != nil {
					break
				}
				result = len(d.Peers)
			}
		case len(f) == 4 && f[0] == "configure":
			peers, _ := strconv.Atoi(f[2])
			cfg, ok := configs[peers]
			if !ok {
				cfg = benchConfig(peers)
				configs[peers] = cfg
			}
			for range n {
				if err = c.ConfigureDevice(f[1], cfg); err != nil {
					break
				}
			}
			result = len(cfg.Peers)
		default:
			err = fmt.Errorf("unknown command %q", in.Text())
		}
		if err != nil {
			fmt.Fprintln(out, "error", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintln(out, "ok", int64(cpu()-start), result)
		}
		out.Flush()
	}
}

func cpu() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchConfig is the config the genlkit side of the benchmark sends too
// (family/wireguard's benchConfig): it replaces all peers with n peers,
// peer i with public key SHA-256(i as 4 bytes big-endian), endpoint
// 198.51.100.(i%256):(10000+i%50000), keepalive 25 s, and allowed IPs
// 2001:db8:1:i::/64 and 2001:db8::i/128.
func benchConfig(n int) wgtypes.Config {
	cfg := wgtypes.Config{ReplacePeers: true, Peers: make([]wgtypes.PeerConfig, n)}
	ka := 25 * time.Second
	for i := range cfg.Peers {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(i))
		net1 := net.IPNet{IP: net.IP{0x20, 0x01, 0x0d, 0xb8, 0, 1, byte(i >> 8), byte(i), 0, 0, 0, 0, 0, 0, 0, 0}, Mask: net.CIDRMask(64, 128)}
		host := net.IPNet{IP: net.IP{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}, Mask: net.CIDRMask(128, 128)}
		cfg.Peers[i] = wgtypes.PeerConfig{
			PublicKey:                   wgtypes.Key(sha256.Sum256(b[:])),
			Endpoint:                    &net.UDPAddr{IP: net.IP{198, 51, 100, byte(i)}, Port: 10000 + i%50000},
			PersistentKeepaliveInterval: &ka,
			ReplaceAllowedIPs:           true,
			AllowedIPs:                  []net.IPNet{net1, host},
		}
	}
	return cfg
}
