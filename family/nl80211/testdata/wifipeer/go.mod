module github.com/genlkit/genlkit/family/nl80211/testdata/wifipeer

go 1.26.0

replace github.com/genlkit/genlkit => ../../../..

require (
	github.com/genlkit/genlkit v0.0.0
	github.com/mdlayher/wifi v0.10.0
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/mdlayher/genetlink v1.4.0 // indirect
	github.com/mdlayher/netlink v1.11.2 // indirect
	github.com/mdlayher/socket v0.6.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
