module github.com/genlkit/genlkit/family/ethtool/testdata/mdlayherpeer

go 1.26.0

replace github.com/genlkit/genlkit => ../../../..

require (
	github.com/genlkit/genlkit v0.0.0-00010101000000-000000000000
	github.com/mdlayher/ethtool v0.7.0
	github.com/mdlayher/genetlink v1.4.0
	github.com/mdlayher/netlink v1.11.2
	golang.org/x/sys v0.50.0
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/mdlayher/socket v0.6.1 // indirect
	golang.org/x/net v0.59.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
)
