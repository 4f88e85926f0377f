package wireguard_test

import (
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family/wireguard"
)

func mustHexKey(t *testing.T, s string) wireguard.Key {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	k, err := wireguard.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyPublicKey(t *testing.T) {
	// RFC 7748 section 6.1: Alice's keys.
	priv := mustHexKey(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	want := mustHexKey(t, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
	if got := priv.PublicKey(); got != want {
		t.Fatalf("PublicKey %x, want %x", got, want)
	}
	// wg(8) agrees, where it is installed.
	wg, err := exec.LookPath("wg")
	if err != nil {
		t.Skip("wg not installed: not compared with wg pubkey")
	}
	gen, err := wireguard.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(wg, "pubkey")
	cmd.Stdin = strings.NewReader(gen.String() + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != gen.PublicKey().String() {
		t.Fatalf("wg pubkey says %s, PublicKey %s", got, gen.PublicKey())
	}
}

func TestKeyText(t *testing.T) {
	k, err := wireguard.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.IsZero() {
		t.Fatal("GenerateKey gave the zero key")
	}
	s := k.String()
	if len(s) != 44 {
		t.Fatalf("String %q is not 44 characters", s)
	}
	back, err := wireguard.ParseKey(s)
	if err != nil || back != k {
		t.Fatalf("ParseKey(%q) = %v, %v; want %v", s, back, err, k)
	}
	// JSON goes through MarshalText and UnmarshalText.
	b, err := json.Marshal(map[string]wireguard.Key{"k": k})
	if err != nil || string(b) != `{"k":"`+s+`"}` {
		t.Fatalf("json: %s, %v", b, err)
	}
	var m map[string]wireguard.Key
	if err := json.Unmarshal(b, &m); err != nil || m["k"] != k {
		t.Fatalf("json back: %v, %v", m, err)
	}
	priv, err := wireguard.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	if priv[0]&7 != 0 || priv[31]&0xc0 != 0x40 {
		t.Errorf("private key %x is not clamped", priv)
	}
	for _, bad := range []string{"", "abc", s[:43], s + "=", strings.Repeat("A", 1000), strings.Repeat("*", 44), s[:42] + "==", s[:43] + "B"} {
		if _, err := wireguard.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) succeeded", bad)
		} else if len(bad) > 4 && strings.Contains(err.Error(), bad) {
			t.Errorf("ParseKey's error repeats the text: %v", err)
		}
	}
	if _, err := wireguard.NewKey(make([]byte, 31)); err == nil {
		t.Error("NewKey of 31 bytes succeeded")
	}
}
