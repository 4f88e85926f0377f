// Package mdlayherpeer compares genlkit's ethtool package with
// github.com/mdlayher/ethtool on the jobs both do, in one benchmark run
// (peer_test.go). It is a module of its own so that the genlkit module
// does not depend on mdlayher/ethtool:
//
//	cd family/ethtool/testdata/mdlayherpeer && go test -run '^$' -bench . -count 5
//
// family/ethtool's BenchmarkMdlayherPeer runs it from the genlkit module,
// and skips, saying why, when it cannot be built.
package mdlayherpeer
