package gen

import (
	"strings"
	"testing"
)

// TestServerFile: the typed test server is generated, as <pkg>test/server.go,
// only when the package's import path is known and there is a client.
func TestServerFile(t *testing.T) {
	const ip = "example.com/m/kitchen"
	cases := []struct {
		name string
		cfg  Config
		want string // the server's file name, "" for none
	}{
		{"import path", Config{ImportPath: ip}, "kitchentest/server.go"},
		{"no import path", Config{}, ""},
		{"noclient", Config{ImportPath: ip, NoClient: true}, ""},
		{"package name", Config{ImportPath: ip, Package: "kit"}, "kittest/server.go"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var src string
			for _, f := range generateFile(t, "testdata/kitchen.yaml", tc.cfg) {
				if strings.HasSuffix(f.Name, "/server.go") {
					got, src = f.Name, string(f.Content)
				}
			}
			if got != tc.want {
				t.Fatalf("server file %q, want %q", got, tc.want)
			}
			if got == "" {
				return
			}
			pkg := strings.TrimSuffix(got, "test/server.go")
			for _, want := range []string{
				"package " + pkg + "test\n",
				"func NewServer(k *genltest.Kernel, opts ...Option) *Server {",
				"func (s *Server) HandleGetDump(h func(req *" + pkg + ".GetDumpRequest, yield func(*" + pkg + ".Main) bool) error) {",
				"func (s *Server) HandleSet(h func(req *" + pkg + ".SetRequest) error) {",
				"func (s *Server) HandlePing(h func() (*" + pkg + ".Empty, error)) {",
				"func (s *Server) HandleHdrGet(h func(hdr " + pkg + ".KtHeader, req *" + pkg + ".HdrGetRequest) (*" + pkg + ".MainKtHeaderMessage, error)) {",
				"func (s *Server) Notify(group string, n " + pkg + ".Notification) error {",
			} {
				if !strings.Contains(src, want) {
					t.Errorf("server.go lacks %q", want)
				}
			}
			if pkg != "kitchen" && !strings.Contains(src, pkg+` "`+ip+`"`) {
				t.Errorf("server.go does not import %s as %s", ip, pkg)
			}
		})
	}
}
