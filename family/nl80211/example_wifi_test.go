package nl80211_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/genlkit/genlkit/family/nl80211"
	"github.com/genlkit/genlkit/genl"
)

// Scan on every station interface and print what each scan found, with
// the security and load the access points announce.
func ExampleClient_Scan() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c, err := nl80211.New(ctx, conn)
	if err != nil {
		log.Fatal(err)
	}
	ifis, err := c.Interfaces(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, ifi := range ifis {
		if ifi.Type != nl80211.InterfaceTypeStation {
			continue
		}
		aps, err := c.Scan(ctx, ifi.Index, nil)
		if err != nil {
			log.Fatal(err)
		}
		for _, ap := range aps {
			fmt.Printf("%s %q %d MHz %.0f dBm", ap.BSSID, ap.SSID, ap.Frequency, float64(ap.Signal)/100)
			if ap.RSN != nil {
				for _, akm := range ap.RSN.AKMs {
					fmt.Print(" ", akm.AKMName())
				}
			}
			if ap.Load != nil {
				fmt.Printf(" %d stations", ap.Load.StationCount)
			}
			fmt.Println()
		}
	}
}

// Read the statistics of the station (for a client interface, its access
// point) on interface 3.
func ExampleClient_StationInfo() {
	ctx := context.Background()
	conn, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c, err := nl80211.New(ctx, conn)
	if err != nil {
		log.Fatal(err)
	}
	stations, err := c.StationInfo(ctx, 3)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range stations {
		fmt.Println(s.HardwareAddr, s.Signal, "dBm", s.ReceivedBytes, "bytes in", s.TransmitBitrate/1e6, "Mbit/s out")
	}
}
