package wireguard

// Hand-written: WireGuard keys. genlgen leaves this file alone, since it
// does not carry the generated-code header.

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// A Key is a WireGuard key: a Curve25519 private or public key, or a
// preshared key. Its text form is standard base64 (44 characters), as wg(8)
// and configuration files write it.
type Key [KeyLen]byte

// GeneratePrivateKey returns a new private key from crypto/rand, clamped as
// Curve25519 requires (the kernel clamps a key it is given, so a clamped
// key reads back unchanged).
func GeneratePrivateKey() (Key, error) {
	k, err := GenerateKey()
	if err != nil {
		return Key{}, err
	}
	k[0] &= 248
	k[31] = k[31]&127 | 64
	return k, nil
}

// GenerateKey returns 32 random bytes from crypto/rand: a preshared key.
func GenerateKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("wireguard: generating a key: %w", err)
	}
	return k, nil
}

// NewKey returns the key b holds; b must be KeyLen bytes.
func NewKey(b []byte) (Key, error) {
	if len(b) != KeyLen {
		return Key{}, fmt.Errorf("wireguard: a key is %d bytes, got %d", KeyLen, len(b))
	}
	return Key(b), nil
}

// ParseKey parses a key in its base64 text form.
func ParseKey(s string) (Key, error) {
	var k Key
	if err := k.UnmarshalText([]byte(s)); err != nil {
		return Key{}, err
	}
	return k, nil
}

// PublicKey returns the public key of private key k (X25519 of k and the
// base point, by crypto/ecdh).
func (k Key) PublicKey() Key {
	priv, err := ecdh.X25519().NewPrivateKey(k[:])
	if err != nil {
		// NewPrivateKey fails only for a length other than 32.
		panic("wireguard: X25519 refused a 32-byte key: " + err.Error())
	}
	return Key(priv.PublicKey().Bytes())
}

// IsZero reports whether k is all zero bytes (the zero Key: no key).
func (k Key) IsZero() bool { return k == Key{} }

// String returns k in base64.
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// MarshalText returns k in base64.
func (k Key) MarshalText() ([]byte, error) {
	return base64.StdEncoding.AppendEncode(nil, k[:]), nil
}

// UnmarshalText sets k from its base64 text form. The error does not
// repeat the text, which may be a secret.
func (k *Key) UnmarshalText(b []byte) error {
	const textLen = (KeyLen + 2) / 3 * 4
	var buf [textLen / 4 * 3]byte
	if len(b) != textLen {
		return fmt.Errorf("wireguard: a key in base64 is %d characters, got %d", textLen, len(b))
	}
	n, err := base64.StdEncoding.Decode(buf[:], b)
	if err != nil || n != KeyLen {
		return fmt.Errorf("wireguard: key is not %d bytes in base64", KeyLen)
	}
	*k = Key(buf[:KeyLen])
	return nil
}
