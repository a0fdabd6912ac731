package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

func key(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verify checks a JOSE ES256 signature (r || s) over input with the public key.
func verify(t *testing.T, k *ecdsa.PrivateKey, input, sig string) bool {
	raw, err := b64.DecodeString(sig)
	if err != nil || len(raw) != 64 {
		t.Fatalf("signature %q: %v (%d bytes, want 64)", sig, err, len(raw))
	}
	digest := sha256.Sum256([]byte(input))
	return ecdsa.Verify(&k.PublicKey, digest[:], new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:]))
}

func TestCompactJWSVerifies(t *testing.T) {
	k := key(t)
	token, err := compact(k, map[string]any{"alg": "ES256", "typ": "JWT"}, map[string]any{"sub": "dev-1"})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", token, len(parts))
	}
	if !verify(t, k, parts[0]+"."+parts[1], parts[2]) {
		t.Fatal("the signature does not verify")
	}
	if verify(t, k, parts[0]+"."+b64.EncodeToString([]byte(`{"sub":"dev-2"}`)), parts[2]) {
		t.Fatal("the signature verifies over another payload")
	}
}

func TestFlattenedPostAsGetHasAnEmptyPayload(t *testing.T) {
	k := key(t)
	body, err := flattened(k, map[string]string{"alg": "ES256"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var jws map[string]string
	if err := json.Unmarshal(body, &jws); err != nil {
		t.Fatal(err)
	}
	if jws["payload"] != "" {
		t.Fatalf("POST-as-GET payload %q, want empty", jws["payload"])
	}
	if !verify(t, k, jws["protected"]+".", jws["signature"]) {
		t.Fatal("the signature does not verify")
	}
}

func TestJWKThumbprintMembersInOrder(t *testing.T) {
	j, err := publicJWK(key(t))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(j)
	if !strings.HasPrefix(string(data), `{"crv":"P-256","kty":"EC","x":"`) {
		t.Fatalf("JWK %s: members not in lexicographic order (RFC 7638)", data)
	}
	if len(j.X) != 43 || len(j.Y) != 43 {
		t.Fatalf("coordinates of %d and %d characters, want 43 (32 bytes)", len(j.X), len(j.Y))
	}
	// RFC 7638 §3.1's example thumbprint, for its RSA key, has the same shape: 43 characters.
	if tp := j.thumbprint(); len(tp) != 43 {
		t.Fatalf("thumbprint %q", tp)
	}
}
