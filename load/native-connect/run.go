package main

// The timed part: every connection dials, completes mutual TLS (the broker's chain and name
// verified), sends CONNECT, requires CONNACK 0, sends DISCONNECT and closes; `concurrency` at a
// time, each bounded by the per-connection timeout and all by the overall one.

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"ecm-lab/load/native-connect/internal/mqtt"
)

type failure struct {
	ClientID string `json:"clientId"`
	// dial | tls (the handshake, or an alert the broker sent after it) | connack | timeout | not-started
	Stage       string `json:"stage"`
	Reason      string `json:"reason"`
	ConnackCode *int   `json:"connackCode,omitempty"`
}

type outcome struct {
	latency    time.Duration
	negotiated string
	failure    *failure
}

func connectOne(ctx context.Context, p *plan, c planConnection, config *tls.Config) outcome {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.connectTimeout())
	defer cancel()
	fail := func(stage string, err error) outcome {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isTimeout(err) {
			stage = "timeout"
		}
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "remote error" {
			stage = "tls"
		}
		f := &failure{ClientID: c.ClientID, Stage: stage, Reason: err.Error()}
		var refused *mqtt.ConnackError
		if errors.As(err, &refused) {
			code := int(refused.Code)
			f.ConnackCode = &code
		}
		return outcome{failure: f}
	}
	dialer := net.Dialer{}
	if c.LocalAddress != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(c.LocalAddress)}
	}
	raw, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(p.Host, strconv.Itoa(p.Port)))
	if err != nil {
		return fail("dial", err)
	}
	conn := tls.Client(raw, config)
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		return fail("tls", err)
	}
	connect, err := mqtt.ConnectPacket(c.ClientID, uint16(p.KeepAliveSeconds))
	if err != nil {
		return fail("connack", err)
	}
	if _, err := conn.Write(connect); err != nil {
		return fail("connack", err)
	}
	if err := mqtt.ReadConnack(conn); err != nil {
		return fail("connack", err)
	}
	latency := time.Since(start)
	state := conn.ConnectionState()
	negotiated := tls.VersionName(state.Version) + " " + tls.CipherSuiteName(state.CipherSuite) + " " + state.CurveID.String()
	if _, err := conn.Write(mqtt.DisconnectPacket); err != nil {
		return fail("connack", err)
	}
	return outcome{latency: latency, negotiated: negotiated}
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// connectAll runs every connection of the plan and returns the outcomes in plan order.
func connectAll(p *plan, configs []*tls.Config) []outcome {
	ctx, cancel := context.WithTimeout(context.Background(), p.overallTimeout())
	defer cancel()
	outcomes := make([]outcome, len(p.Connections))
	next := make(chan int)
	var wg sync.WaitGroup
	for range p.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outcomes[i] = connectOne(ctx, p, p.Connections[i], configs[i])
			}
		}()
	}
	for i, c := range p.Connections {
		if ctx.Err() != nil {
			outcomes[i] = outcome{failure: &failure{ClientID: c.ClientID, Stage: "not-started", Reason: "the overall timeout of " + p.overallTimeout().String() + " passed first"}}
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return outcomes
}
