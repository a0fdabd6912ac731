// Package tlspolicy is the lab's client TLS policy (net/tls-policy.ts) for its native clients:
// TLS 1.2 minimum, for TLS 1.2 only ECDHE with AEAD ciphers, the server's chain and name verified.
// The curves are the ones Node's OpenSSL offers first (X25519, P-256, P-384), so that neither
// client pays for a key share the other does not make (Go would otherwise add a post-quantum
// hybrid share the broker's OpenSSL 3.0 cannot use).
package tlspolicy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

var (
	tls12Ciphers = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
	curves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}
)

// Client is the configuration of one client connection: `certificates` empty for a
// server-authenticated one; `serverName` the name (or IP) the server's certificate must carry.
func Client(roots *x509.CertPool, certificates []tls.Certificate, serverName string) (*tls.Config, error) {
	if serverName == "" {
		return nil, errors.New("a server name to verify is required")
	}
	return &tls.Config{
		Certificates:     certificates,
		RootCAs:          roots,
		ServerName:       serverName,
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     tls12Ciphers,
		CurvePreferences: curves,
	}, nil
}

// HTTPS is the configuration of an HTTPS client's transport: the transport sets the server name
// to verify from each request's host, so none is given here.
func HTTPS(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, CipherSuites: tls12Ciphers, CurvePreferences: curves}
}
