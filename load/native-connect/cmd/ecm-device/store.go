package main

// The device's certificate store (simulators/client/certificate-store.ts): a 0700 directory
// with local.crt, local.key, ca.crt, bootstrap.crt and bootstrap.key; keys 0600. The keys are
// made in this process and written only here.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/url"
	"os"
	"path/filepath"
)

var storeFiles = []string{"local.crt", "local.key", "ca.crt", "bootstrap.crt", "bootstrap.key", "request.key", "legacy.json"}

type store struct{ dir string }

// open makes the directory 0700 (whatever the umask, also when it exists) and empties it: a
// fleet device powers up with no certificate and provisions itself.
func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	for _, f := range storeFiles {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	return &store{dir: dir}, nil
}

// write replaces a file with the given mode (removed first: an existing file keeps its mode).
func (s *store) write(name string, data []byte, mode os.FileMode) error {
	file := filepath.Join(s.dir, name)
	if err := os.Remove(file); err != nil && !os.IsNotExist(err) {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *store) writeKey(name string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return s.write(name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// newKeyAndCSR is an EC P-256 key and a CSR for the subject CN and SANs (an IP or URIs).
func newKeyAndCSR(commonName string, ip string, uris []string) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	template := &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}
	if ip != "" {
		template.IPAddresses = []net.IP{net.ParseIP(ip)}
	}
	for _, u := range uris {
		parsed, err := url.Parse(u)
		if err != nil {
			return nil, nil, err
		}
		template.URIs = append(template.URIs, parsed)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, template, key)
	return key, der, err
}
