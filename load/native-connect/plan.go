package main

// The plan the lab hands over (JSON): where the broker is, whom to trust, and one client
// certificate per connection. Everything is checked and loaded before the timed part.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"ecm-lab/load/native-connect/internal/tlspolicy"
)

type planConnection struct {
	ClientID     string `json:"clientId"`
	CertFile     string `json:"certFile"`
	KeyFile      string `json:"keyFile"`
	LocalAddress string `json:"localAddress,omitempty"`
}

type plan struct {
	Host             string           `json:"host"`
	Port             int              `json:"port"`
	ServerName       string           `json:"serverName"`
	CAFile           string           `json:"caFile"`
	Concurrency      int              `json:"concurrency"`
	ConnectTimeoutMs int              `json:"connectTimeoutMs"`
	OverallTimeoutMs int              `json:"overallTimeoutMs"`
	KeepAliveSeconds int              `json:"keepAliveSeconds"`
	Connections      []planConnection `json:"connections"`
}

// Bounds of every run: the lab's load loops are bounded in count and time.
const (
	maxConnections     = 10_000
	maxConcurrency     = 1_000
	maxConnectTimeout  = 60 * time.Second
	maxOverallTimeout  = time.Hour
	defaultConnectWait = 10 * time.Second
	defaultOverallWait = 5 * time.Minute
)

func readPlan(file string) (*plan, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var p plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("plan %s: %w", file, err)
	}
	return &p, p.check()
}

func (p *plan) check() error {
	var problems []error
	if ip := net.ParseIP(p.Host); p.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		problems = append(problems, fmt.Errorf("host %q: only loopback brokers (127.0.0.0/8, ::1, localhost)", p.Host))
	}
	if p.Port < 1 || p.Port > 65535 {
		problems = append(problems, fmt.Errorf("port %d: must be 1..65535", p.Port))
	}
	if p.ServerName == "" || p.CAFile == "" {
		problems = append(problems, errors.New("serverName and caFile are required: the broker's chain and name are always verified"))
	}
	if n := len(p.Connections); n < 1 || n > maxConnections {
		problems = append(problems, fmt.Errorf("connections: %d, must be 1..%d", n, maxConnections))
	}
	if p.Concurrency < 1 || p.Concurrency > maxConcurrency {
		problems = append(problems, fmt.Errorf("concurrency %d: must be 1..%d", p.Concurrency, maxConcurrency))
	}
	if p.ConnectTimeoutMs < 0 || time.Duration(p.ConnectTimeoutMs)*time.Millisecond > maxConnectTimeout {
		problems = append(problems, fmt.Errorf("connectTimeoutMs %d: must be 0 (default 10 s) to %d", p.ConnectTimeoutMs, maxConnectTimeout.Milliseconds()))
	}
	if p.OverallTimeoutMs < 0 || time.Duration(p.OverallTimeoutMs)*time.Millisecond > maxOverallTimeout {
		problems = append(problems, fmt.Errorf("overallTimeoutMs %d: must be 0 (default 5 min) to %d", p.OverallTimeoutMs, maxOverallTimeout.Milliseconds()))
	}
	if p.KeepAliveSeconds < 0 || p.KeepAliveSeconds > 0xffff {
		problems = append(problems, fmt.Errorf("keepAliveSeconds %d: must be 0..65535", p.KeepAliveSeconds))
	}
	for i, c := range p.Connections {
		if c.ClientID == "" || c.CertFile == "" || c.KeyFile == "" {
			problems = append(problems, fmt.Errorf("connections[%d]: clientId, certFile and keyFile are required", i))
		}
		if c.LocalAddress != "" {
			if ip := net.ParseIP(c.LocalAddress); ip == nil || !ip.IsLoopback() {
				problems = append(problems, fmt.Errorf("connections[%d].localAddress %q: must be a loopback address", i, c.LocalAddress))
			}
		}
	}
	return errors.Join(problems...)
}

func (p *plan) connectTimeout() time.Duration {
	if p.ConnectTimeoutMs == 0 {
		return defaultConnectWait
	}
	return time.Duration(p.ConnectTimeoutMs) * time.Millisecond
}

func (p *plan) overallTimeout() time.Duration {
	if p.OverallTimeoutMs == 0 {
		return defaultOverallWait
	}
	return time.Duration(p.OverallTimeoutMs) * time.Millisecond
}

// readKey refuses a key file others can read: the lab writes them 0600, and a wider mode means
// something else wrote it. The key's bytes are never printed.
func readKey(file string) ([]byte, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %o: private keys must be 0600", file, info.Mode().Perm())
	}
	return os.ReadFile(file)
}

// tlsConfigs loads every client certificate into its own TLS configuration, as a device loads its
// certificate once when it gets it; the session cache is off, so every connection is a full
// handshake (the Node baseline's certificates are distinct and fresh too).
func (p *plan) tlsConfigs() ([]*tls.Config, error) {
	caPem, err := os.ReadFile(p.CAFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPem) {
		return nil, fmt.Errorf("caFile %s: no PEM certificate", p.CAFile)
	}
	configs := make([]*tls.Config, len(p.Connections))
	for i, c := range p.Connections {
		certPem, err := os.ReadFile(c.CertFile)
		if err != nil {
			return nil, err
		}
		keyPem, err := readKey(c.KeyFile)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPem, keyPem)
		if err != nil {
			return nil, fmt.Errorf("connections[%d] (%s): %w", i, c.ClientID, err)
		}
		if configs[i], err = tlspolicy.Client(roots, []tls.Certificate{pair}, p.ServerName); err != nil {
			return nil, err
		}
	}
	return configs, nil
}
