package main

// JWS (RFC 7515) with ES256 for the device's ACME requests and its X5C token: ECDSA P-256 over
// SHA-256, the signature in the JOSE encoding (r || s, 32 bytes each, RFC 7518 §3.4).

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
)

var b64 = base64.RawURLEncoding

// jwk is an EC P-256 public key with its members in lexicographic order (RFC 7638), so that its
// JSON is also the input of its thumbprint.
type jwk struct {
	Crv string `json:"crv"`
	Kty string `json:"kty"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func publicJWK(key *ecdsa.PrivateKey) (jwk, error) {
	pub, err := key.PublicKey.ECDH()
	if err != nil {
		return jwk{}, err
	}
	raw := pub.Bytes() // 0x04 || X || Y
	if len(raw) != 65 {
		return jwk{}, errors.New("the account key must be an EC P-256 key (ES256)")
	}
	return jwk{Crv: "P-256", Kty: "EC", X: b64.EncodeToString(raw[1:33]), Y: b64.EncodeToString(raw[33:])}, nil
}

// thumbprint is the JWK thumbprint (RFC 7638), base64url.
func (k jwk) thumbprint() string {
	data, _ := json.Marshal(k)
	sum := sha256.Sum256(data)
	return b64.EncodeToString(sum[:])
}

// signES256 signs `input` and returns the JOSE signature (r || s), base64url.
func signES256(key *ecdsa.PrivateKey, input string) (string, error) {
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return b64.EncodeToString(sig), nil
}

// compact is a JWS in compact serialization: header.payload.signature.
func compact(key *ecdsa.PrivateKey, header, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sig, err := signES256(key, input)
	if err != nil {
		return "", err
	}
	return input + "." + sig, nil
}

// flattened is the JSON serialization of an ACME request (RFC 8555 §6.2); a nil payload is
// POST-as-GET (an empty payload).
func flattened(key *ecdsa.PrivateKey, header any, payload any) ([]byte, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	body := ""
	if payload != nil {
		p, err := json.Marshal(payload)
		if err != nil {
			return nil, err
		}
		body = b64.EncodeToString(p)
	}
	protected := b64.EncodeToString(h)
	sig, err := signES256(key, protected+"."+body)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"protected": protected, "payload": body, "signature": sig})
}
