package main

// connectOne against an in-process TLS listener that answers CONNECT with a chosen CONNACK:
// code 0 is a connection, any other code a failure that carries it.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecm-lab/load/native-connect/internal/tlspolicy"
)

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "broker"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// broker answers every CONNECT with CONNACK `code` and returns its port.
func broker(t *testing.T, cert tls.Certificate, code byte) int {
	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 64)
				if _, err := conn.Read(buf); err == nil {
					_, _ = conn.Write([]byte{0x20, 0x02, 0, code})
					_, _ = conn.Read(buf)
				}
			}()
		}
	}()
	return listener.Addr().(*net.TCPAddr).Port
}

func TestConnectOneConnackCodes(t *testing.T) {
	cert, roots := selfSigned(t)
	config, err := tlspolicy.Client(roots, nil, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []byte{0, 5} {
		t.Run("CONNACK "+strconv.Itoa(int(code)), func(t *testing.T) {
			p := &plan{Host: "127.0.0.1", Port: broker(t, cert, code), ConnectTimeoutMs: 5000, KeepAliveSeconds: 30}
			o := connectOne(t.Context(), p, planConnection{ClientID: "dev-1"}, config)
			if code == 0 {
				if o.failure != nil || o.latency <= 0 {
					t.Fatalf("CONNACK 0: %+v", o.failure)
				}
				return
			}
			if o.failure == nil || o.failure.Stage != "connack" || o.failure.ConnackCode == nil || *o.failure.ConnackCode != 5 {
				t.Fatalf("CONNACK 5 was not a failure with its code: %+v", o.failure)
			}
			if o.failure.Reason != "CONNACK return code 5 (not authorized)" {
				t.Fatalf("reason %q", o.failure.Reason)
			}
		})
	}
}

func TestConnectOneRefusesAnotherName(t *testing.T) {
	cert, roots := selfSigned(t)
	config := &tls.Config{RootCAs: roots, ServerName: "not-the-broker.example", MinVersion: tls.VersionTLS12}
	p := &plan{Host: "127.0.0.1", Port: broker(t, cert, 0), ConnectTimeoutMs: 5000}
	o := connectOne(t.Context(), p, planConnection{ClientID: "dev-1"}, config)
	if o.failure == nil || o.failure.Stage != "tls" {
		t.Fatalf("a broker certificate for another name was accepted: %+v", o.failure)
	}
}

func TestPlanCheck(t *testing.T) {
	good := plan{Host: "127.0.0.1", Port: 8883, ServerName: "127.0.0.1", CAFile: "ca", Concurrency: 1, Connections: []planConnection{{ClientID: "a", CertFile: "c", KeyFile: "k"}}}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Host = "10.0.0.1"
	bad.Concurrency = 0
	err := bad.check()
	if err == nil || !strings.Contains(err.Error(), `host "10.0.0.1": only loopback brokers`) || !strings.Contains(err.Error(), "concurrency 0: must be 1..1000") {
		t.Fatalf("check: %v", err)
	}
}
