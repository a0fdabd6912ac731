package main

// One firmware 2.1 device, as the Node device does it (simulators/device/reveos-device.ts,
// simulators/client/power-up.ts): an empty store, the bootstrap certificate by ACME http-01 through
// the service's gated directory, the operational certificate by X5C sign at the service, then a
// persistent mutual-TLS MQTT session subscribed to its commands, and QoS 1 telemetry that waits
// for each PUBACK. Each operation is retried with the fleet's backoff (FLEET_BACKOFF).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"ecm-lab/load/native-connect/internal/loopback"
	"ecm-lab/load/native-connect/internal/mqtt"
	"ecm-lab/load/native-connect/internal/tlspolicy"
)

type backoff struct {
	InitialMs   float64 `json:"initialMs"`
	MaxMs       float64 `json:"maxMs"`
	Factor      float64 `json:"factor"`
	MaxAttempts int     `json:"maxAttempts"`
	Jitter      float64 `json:"jitter"`
}

type config struct {
	AcmeDirectoryURL string `json:"acmeDirectoryUrl"`
	SignURL          string `json:"signUrl"`
	TrustedRootPem   string `json:"trustedRootPem"`
	X5C              struct {
		Provisioner string `json:"provisioner"`
		Audience    string `json:"audience"`
	} `json:"x5c"`
	Broker struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	} `json:"broker"`
	StoreRoot           string  `json:"storeRoot"`
	TopicRoot           string  `json:"topicRoot"`
	QoS                 byte    `json:"qos"`
	TelemetryIntervalMs float64 `json:"telemetryIntervalMs"`
	Operate             string  `json:"operate"`
	Backoff             backoff `json:"backoff"`
	roots               *x509.CertPool
}

// epochMs is now in epoch milliseconds with microseconds, like Node's timeOrigin + now().
func epochMs() float64 { return float64(time.Now().UnixMicro()) / 1000 }

func sinceMs(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

type device struct {
	id, firmware, address string
	cfg                   *config

	mu        sync.Mutex
	seq       int
	acked     int
	conn      *tls.Conn
	writeMu   sync.Mutex
	pubacks   map[uint16]chan struct{}
	suback    chan struct{}
	nextID    uint16
	closing   bool
	connected bool
	dropped   []float64
	stop      chan struct{}
	telemetry sync.WaitGroup
}

// named errors keep the Node device's names, so the report's "errors by cause" reads the same.
type named interface{ Name() string }

func errorName(err error) string {
	var n named
	if errors.As(err, &n) {
		return n.Name()
	}
	return "Error"
}

// retry runs op with the fleet's backoff until it succeeds or its attempts are spent.
func (d *device) retry(op func() error, retried *bool) error {
	b := d.cfg.Backoff
	delay := b.InitialMs
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		*retried = true
		if attempt >= b.MaxAttempts {
			return err
		}
		wait := delay * (1 - b.Jitter*rand.Float64())
		time.Sleep(time.Duration(wait * float64(time.Millisecond)))
		delay = min(b.MaxMs, delay*b.Factor)
	}
}

func (d *device) httpClient() (*http.Client, error) {
	dialer, err := loopback.Dialer(d.address)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			TLSClientConfig:     tlspolicy.HTTPS(d.cfg.roots),
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     30 * time.Second,
			ForceAttemptHTTP2:   false,
		},
	}, nil
}

// bringUp is the power-up of a fresh 2.1 device: provision, operational certificate, connect.
func (d *device) bringUp(serve challenges) (map[string]float64, bool, error) {
	timings := map[string]float64{}
	retried := false
	st, err := openStore(filepath.Join(d.cfg.StoreRoot, d.id))
	if err != nil {
		return nil, false, err
	}
	client, err := d.httpClient()
	if err != nil {
		return nil, false, err
	}
	defer client.CloseIdleConnections()

	var bootstrapKey *ecdsa.PrivateKey
	var bootstrapChain []byte
	if err := d.retry(func() error {
		var err error
		bootstrapKey, bootstrapChain, err = d.provision(client, serve, timings)
		return err
	}, &retried); err != nil {
		return nil, retried, err
	}
	if err := st.writeKey("bootstrap.key", bootstrapKey); err != nil {
		return nil, retried, err
	}
	if err := st.write("bootstrap.crt", bootstrapChain, 0o644); err != nil {
		return nil, retried, err
	}
	if err := st.write("ca.crt", []byte(d.cfg.TrustedRootPem), 0o644); err != nil {
		return nil, retried, err
	}

	var opKey *ecdsa.PrivateKey
	var opChain []byte
	if err := d.retry(func() error {
		started := time.Now()
		key, csr, err := newKeyAndCSR(d.id, "", []string{"urn:ecm-lab:device:" + d.id})
		if err != nil {
			return err
		}
		ott, err := x5cToken(bootstrapKey, bootstrapChain, d.cfg.X5C.Provisioner, d.cfg.X5C.Audience, d.id, []string{"urn:ecm-lab:device:" + d.id}, time.Now())
		if err != nil {
			return err
		}
		chain, err := sign(client, d.cfg.SignURL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), ott)
		if err != nil {
			return err
		}
		opKey, opChain, timings["x5cSign"] = key, chain, sinceMs(started)
		return nil
	}, &retried); err != nil {
		return nil, retried, err
	}
	if err := st.writeKey("local.key", opKey); err != nil {
		return nil, retried, err
	}
	if err := st.write("local.crt", opChain, 0o644); err != nil {
		return nil, retried, err
	}
	client.CloseIdleConnections()

	if err := d.retry(func() error {
		started := time.Now()
		if err := d.connect(opKey, opChain); err != nil {
			return err
		}
		timings["mqttConnect"] = sinceMs(started)
		return nil
	}, &retried); err != nil {
		return nil, retried, err
	}
	return timings, retried, nil
}

func (d *device) provision(client *http.Client, serve challenges, timings map[string]float64) (*ecdsa.PrivateKey, []byte, error) {
	accountKey, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return nil, nil, err
	}
	j, err := publicJWK(accountKey)
	if err != nil {
		return nil, nil, err
	}
	acme := &acmeClient{http: client, key: accountKey, jwk: j}
	started := time.Now()
	if err := acme.directory(d.cfg.AcmeDirectoryURL); err != nil {
		return nil, nil, err
	}
	if err := acme.account(); err != nil {
		return nil, nil, err
	}
	o, err := acme.newOrder(d.address)
	if err != nil {
		return nil, nil, err
	}
	timings["acmeOrder"] = sinceMs(started)
	started = time.Now()
	if err := acme.validate(o, serve, d.address); err != nil {
		return nil, nil, err
	}
	timings["challengeValidation"] = sinceMs(started)
	started = time.Now()
	key, csr, err := newKeyAndCSR(d.address, d.address, nil)
	if err != nil {
		return nil, nil, err
	}
	chain, err := acme.finalize(o, csr)
	if err != nil {
		return nil, nil, err
	}
	timings["finalize"] = sinceMs(started)
	return key, chain, nil
}

func (d *device) commandTopic() string   { return d.cfg.TopicRoot + "/" + d.id + "/cmd" }
func (d *device) telemetryTopic() string { return d.cfg.TopicRoot + "/" + d.id + "/telemetry" }

func (d *device) write(packet []byte) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	_, err := d.conn.Write(packet)
	return err
}

// connect opens the mutual-TLS session (the broker's chain and name verified), CONNECT with a
// persistent session, CONNACK 0, and SUBSCRIBE to its commands at QoS 1 (SUBACK awaited).
func (d *device) connect(key *ecdsa.PrivateKey, chainPEM []byte) error {
	var pair tls.Certificate
	for rest := chainPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		pair.Certificate = append(pair.Certificate, block.Bytes)
	}
	pair.PrivateKey = key
	config, err := tlspolicy.Client(d.cfg.roots, []tls.Certificate{pair}, d.cfg.Broker.Host)
	if err != nil {
		return err
	}
	dialer, err := loopback.Dialer(d.address)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(d.cfg.Broker.Host, strconv.Itoa(d.cfg.Broker.Port)))
	if err != nil {
		return err
	}
	conn := tls.Client(raw, config)
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	fail := func(err error) error { conn.Close(); return err }
	if err := conn.HandshakeContext(ctx); err != nil {
		return fail(err)
	}
	connect, err := mqtt.SessionConnectPacket(d.id, 30, false)
	if err != nil {
		return fail(err)
	}
	if _, err := conn.Write(connect); err != nil {
		return fail(err)
	}
	if err := mqtt.ReadConnack(conn); err != nil {
		return fail(err)
	}
	_ = conn.SetDeadline(time.Time{})
	d.mu.Lock()
	d.conn, d.pubacks, d.suback, d.nextID, d.connected = conn, map[uint16]chan struct{}{}, make(chan struct{}, 1), 1, true
	d.mu.Unlock()
	go d.read(conn)
	if err := d.write(mqtt.SubscribePacket(d.packetID(), d.commandTopic(), 1)); err != nil {
		return fail(err)
	}
	select {
	case <-d.suback:
		return nil
	case <-ctx.Done():
		return fail(errors.New("no SUBACK for the command topic within 10 s"))
	}
}

func (d *device) packetID() uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := d.nextID
	if d.nextID++; d.nextID == 0 {
		d.nextID = 1
	}
	return id
}

// read takes the broker's packets: PUBACKs release their publisher, the SUBACK its subscriber,
// a QoS 1 command is acknowledged (a device ignores commands it does not serve here).
func (d *device) read(conn *tls.Conn) {
	for {
		p, err := mqtt.ReadPacket(conn)
		if err != nil {
			d.mu.Lock()
			if !d.closing {
				d.dropped = append(d.dropped, epochMs())
			}
			d.connected = false
			for _, ch := range d.pubacks {
				close(ch)
			}
			d.pubacks = map[uint16]chan struct{}{}
			d.mu.Unlock()
			return
		}
		switch p.Type {
		case mqtt.TypePuback:
			id, _ := p.PacketID()
			d.mu.Lock()
			if ch, ok := d.pubacks[id]; ok {
				delete(d.pubacks, id)
				ch <- struct{}{}
			}
			d.mu.Unlock()
		case mqtt.TypeSuback:
			select {
			case d.suback <- struct{}{}:
			default:
			}
		case mqtt.TypePublish:
			if _, id, _, err := p.IncomingPublish(); err == nil && id != 0 {
				_ = d.write(mqtt.PubackPacket(id))
			}
		}
	}
}

type telemetryMessage struct {
	DeviceID        string             `json:"deviceId"`
	Seq             int                `json:"seq"`
	SentAt          float64            `json:"sentAt"`
	FirmwareVersion string             `json:"firmwareVersion"`
	Readings        map[string]float64 `json:"readings"`
}

// publish sends one telemetry message; at QoS 1 it returns once the broker acknowledged it.
func (d *device) publish() error {
	d.mu.Lock()
	heartRate := 60 + d.seq%40
	d.seq++
	seq := d.seq
	d.mu.Unlock()
	payload, _ := json.Marshal(telemetryMessage{DeviceID: d.id, Seq: seq, SentAt: epochMs(), FirmwareVersion: d.firmware, Readings: map[string]float64{"heartRate": float64(heartRate)}})
	var id uint16
	var acked chan struct{}
	if d.cfg.QoS == 1 {
		id, acked = d.packetID(), make(chan struct{}, 1)
		d.mu.Lock()
		d.pubacks[id] = acked
		d.mu.Unlock()
	}
	packet, err := mqtt.PublishPacket(d.telemetryTopic(), id, payload, d.cfg.QoS)
	if err != nil {
		return err
	}
	if err := d.write(packet); err != nil {
		return err
	}
	if acked != nil {
		select {
		case _, ok := <-acked:
			if !ok {
				return fmt.Errorf("the connection closed before the PUBACK of message %d", seq)
			}
		case <-time.After(30 * time.Second):
			return fmt.Errorf("no PUBACK for message %d within 30 s", seq)
		}
	}
	d.mu.Lock()
	d.acked = max(d.acked, seq)
	d.mu.Unlock()
	return nil
}

// operate publishes telemetry until stopped (or holds the session), with PINGREQ keep-alives.
func (d *device) operate(report func(error)) {
	d.stop = make(chan struct{})
	d.telemetry.Add(1)
	go func() {
		defer d.telemetry.Done()
		interval := time.Duration(d.cfg.TelemetryIntervalMs * float64(time.Millisecond))
		ping := time.NewTicker(15 * time.Second)
		defer ping.Stop()
		for {
			if d.cfg.Operate == "telemetry" {
				if err := d.publish(); err != nil {
					report(err)
					return
				}
			} else {
				interval = time.Hour
			}
			select {
			case <-d.stop:
				return
			case <-ping.C:
				_ = d.write(mqtt.PingreqPacket)
			case <-time.After(interval):
			}
		}
	}()
}

func (d *device) isConnected() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.connected
}

// shutdown stops telemetry (the message in flight gets its PUBACK first) and disconnects.
func (d *device) stopTelemetry() {
	if d.stop != nil {
		close(d.stop)
		d.telemetry.Wait()
		d.stop = nil
	}
}

func (d *device) disconnect() error {
	d.mu.Lock()
	d.closing = true
	conn := d.conn
	d.mu.Unlock()
	if conn == nil {
		return nil
	}
	err := d.write(mqtt.DisconnectPacket)
	conn.Close()
	return err
}
