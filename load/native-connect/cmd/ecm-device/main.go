// ecm-device: the lab's native device client (ecm-lab load --device-client native). One process
// runs a whole fleet of firmware 2.1 devices, each with its own loopback address, store, keys
// and session (device.go), driven by the lab over JSON lines:
//
//	stdin   {"op":"init","config":{...}}  then  {"op":"launch","deviceId":..,"firmwareVersion":..,"address":..}
//	        {"op":"published","token":..}  {"op":"connectedIds","id":n}  {"op":"stop"}
//	stdout  {"type":"ready"}  {"type":"challenge","token":..,"keyAuthorization":..}  {"type":"unchallenge",..}
//	        {"type":"provisioned",..}  {"type":"failed",..}  {"type":"sent","sent":n}
//	        {"type":"connectedIds","id":n,"ids":[..]}  {"type":"stopped","devices":{..},"errors":[..]}
//
// The lab's one http-01 responder serves the tokens (the lab publishes each and answers
// "published"). Only 127.0.0.0/8 is ever dialled or bound. It exits when stdin closes: the lab
// that started it is gone, or has read its CPU after "stopped".
//
//	ecm-device -version   the hash of the sources it was built from
//
// ECM_DEVICE_CPU_PROFILE=<file> writes a Go CPU profile of the whole process to <file> when stdin
// closes (go tool pprof -top <file>): where the device client's CPU goes (BENCHMARKS.md).
package main

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"ecm-lab/load/native-connect/internal/loopback"
)

var sourceHash = "unknown"

type command struct {
	Op              string  `json:"op"`
	Config          *config `json:"config"`
	DeviceID        string  `json:"deviceId"`
	FirmwareVersion string  `json:"firmwareVersion"`
	Address         string  `json:"address"`
	Token           string  `json:"token"`
	ID              int     `json:"id"`
}

type lab struct {
	outMu    sync.Mutex
	out      *json.Encoder
	cfg      *config
	mu       sync.Mutex
	devices  map[string]*device
	order    []string
	waiting  map[string]chan struct{}
	launches sync.WaitGroup
}

func (l *lab) emit(v any) {
	l.outMu.Lock()
	defer l.outMu.Unlock()
	_ = l.out.Encode(v)
}

func (l *lab) publish(token, keyAuthorization string) error {
	ch := make(chan struct{})
	l.mu.Lock()
	l.waiting[token] = ch
	l.mu.Unlock()
	l.emit(map[string]string{"type": "challenge", "token": token, "keyAuthorization": keyAuthorization})
	select {
	case <-ch:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("the lab did not publish the http-01 token within 10 s")
	}
}

func (l *lab) remove(token string) {
	l.emit(map[string]string{"type": "unchallenge", "token": token})
}

func (l *lab) published(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch, ok := l.waiting[token]; ok {
		delete(l.waiting, token)
		close(ch)
	}
}

// checkTargets refuses, before anything is sent, a lab whose endpoints are not on 127.0.0.0/8.
func checkTargets(c *config) error {
	hosts := []string{c.Broker.Host}
	for _, raw := range []string{c.AcmeDirectoryURL, c.SignURL} {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("endpoint %q is not a URL", raw)
		}
		hosts = append(hosts, u.Hostname())
	}
	for _, h := range hosts {
		ips, err := net.LookupIP(h)
		if err != nil {
			return err
		}
		for _, ip := range ips {
			if ip.To4() == nil {
				continue // ::1 for localhost: the dialer refuses it should it be picked
			}
			if !loopback.Allowed(ip) {
				return fmt.Errorf("endpoint host %s resolves to %s, outside 127.0.0.0/8: refused", h, ip)
			}
		}
	}
	return nil
}

func (l *lab) launch(c command) {
	d := &device{id: c.DeviceID, firmware: c.FirmwareVersion, address: c.Address, cfg: l.cfg}
	l.mu.Lock()
	if _, dup := l.devices[d.id]; dup {
		l.mu.Unlock()
		l.emit(map[string]any{"type": "failed", "deviceId": d.id, "name": "Error", "cause": "launched twice"})
		return
	}
	l.devices[d.id] = d
	l.order = append(l.order, d.id)
	l.mu.Unlock()
	l.launches.Add(1)
	go func() {
		defer l.launches.Done()
		started := time.Now()
		if err := loopback.CheckIP("source address", d.address); err != nil {
			l.emit(map[string]any{"type": "failed", "deviceId": d.id, "name": "Error", "cause": err.Error()})
			return
		}
		timings, retried, err := d.bringUp(l)
		if err != nil {
			l.emit(map[string]any{"type": "failed", "deviceId": d.id, "name": errorName(err), "cause": err.Error()})
			return
		}
		l.emit(map[string]any{"type": "provisioned", "deviceId": d.id, "timings": timings, "totalMs": sinceMs(started), "retried": retried, "at": epochMs()})
		d.operate(func(err error) {
			l.emit(map[string]any{"type": "telemetry-error", "deviceId": d.id, "cause": err.Error()})
		})
	}()
}

func (l *lab) snapshot() []*device {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*device, 0, len(l.order))
	for _, id := range l.order {
		out = append(out, l.devices[id])
	}
	return out
}

func (l *lab) sent() int {
	n := 0
	for _, d := range l.snapshot() {
		d.mu.Lock()
		n += d.seq
		d.mu.Unlock()
	}
	return n
}

type tally struct {
	LastSeq               int       `json:"lastSeq"`
	UnexpectedDisconnects []float64 `json:"unexpectedDisconnects"`
}

// stop waits for launches in progress (bounded by their own timeouts), stops every telemetry
// loop, tallies, then disconnects.
func (l *lab) stop() {
	l.launches.Wait()
	devices := l.snapshot()
	var wg sync.WaitGroup
	for _, d := range devices {
		wg.Add(1)
		go func() { defer wg.Done(); d.stopTelemetry() }()
	}
	wg.Wait()
	tallies := map[string]tally{}
	for _, d := range devices {
		d.mu.Lock()
		tallies[d.id] = tally{LastSeq: d.seq, UnexpectedDisconnects: append([]float64{}, d.dropped...)}
		d.mu.Unlock()
	}
	errs := []string{}
	for _, d := range devices {
		if err := d.disconnect(); err != nil {
			errs = append(errs, "disconnect: "+err.Error())
		}
	}
	l.emit(map[string]any{"type": "stopped", "sent": l.sent(), "devices": tallies, "errors": errs})
}

func die(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ecm-device: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	version := flag.Bool("version", false, "print the hash of the sources it was built from")
	flag.Parse()
	if *version {
		fmt.Printf("ecm-device %s\n", sourceHash)
		return
	}
	if file := os.Getenv("ECM_DEVICE_CPU_PROFILE"); file != "" {
		out, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			die(2, "ECM_DEVICE_CPU_PROFILE: %v", err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			die(2, "ECM_DEVICE_CPU_PROFILE: %v", err)
		}
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	l := &lab{out: json.NewEncoder(os.Stdout), devices: map[string]*device{}, waiting: map[string]chan struct{}{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<16), 1<<24)
	stopped := false
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			die(2, "stdin: %v", err)
		}
		switch {
		case c.Op == "init" && l.cfg == nil && c.Config != nil:
			cfg := c.Config
			cfg.roots = x509.NewCertPool()
			if !cfg.roots.AppendCertsFromPEM([]byte(cfg.TrustedRootPem)) {
				die(2, "init: trustedRootPem holds no certificate")
			}
			if cfg.Backoff.MaxAttempts < 1 || cfg.Backoff.Factor < 1 || cfg.TelemetryIntervalMs <= 0 || cfg.QoS > 1 || cfg.StoreRoot == "" || cfg.TopicRoot == "" {
				die(2, "init: backoff, telemetryIntervalMs, qos (0|1), storeRoot and topicRoot are required")
			}
			if err := checkTargets(cfg); err != nil {
				die(2, "init: %v", err)
			}
			l.cfg = cfg
			l.emit(map[string]any{"type": "ready"})
			go func() {
				for range time.Tick(250 * time.Millisecond) {
					l.emit(map[string]any{"type": "sent", "sent": l.sent()})
				}
			}()
		case l.cfg == nil:
			die(2, "the first line must be a valid init, got %q", strings.TrimSpace(in.Text()))
		case c.Op == "launch" && !stopped:
			l.launch(c)
		case c.Op == "published":
			l.published(c.Token)
		case c.Op == "connectedIds":
			ids := []string{}
			for _, d := range l.snapshot() {
				if d.isConnected() {
					ids = append(ids, d.id)
				}
			}
			l.emit(map[string]any{"type": "connectedIds", "id": c.ID, "ids": ids})
		case c.Op == "stop" && !stopped:
			stopped = true
			go l.stop()
		default:
			die(2, "unknown or out-of-order command %q", c.Op)
		}
	}
	// stdin closed: the lab has what it needs, or is gone; either way this process ends with it.
}
