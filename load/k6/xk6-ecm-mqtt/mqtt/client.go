// Package mqtt is the lab's k6 extension (import "k6/x/ecm-mqtt"): an MQTT 3.1.1 client over
// mutual TLS whose certificate and key are chosen per client, so every VU can be a distinct
// device identity. k6's own extension (grafana/xk6-mqtt) takes TLS from k6's global tlsAuth and
// so shares one identity across VUs; the per-client one (pmalhaire/xk6-mqtt) is not served by the
// Go module proxy the lab's machines reach. The MQTT protocol itself is Eclipse Paho's; this file
// only binds it to k6's VU lifecycle.
//
// The calls block the VU (k6 runs each VU on its own goroutine), which keeps scripts linear.
// Received messages are stamped when Paho hands them over, not when the script asks for them, so
// a delivery latency measured from them does not include the script's own loop.
package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/grafana/sobek"
	"go.k6.io/k6/js/common"
	"go.k6.io/k6/js/modules"
)

// AllowNonLoopbackEnv lifts the loopback-only rule, for a broker inside a cluster (load/k8s).
const AllowNonLoopbackEnv = "K6_ECM_MQTT_ALLOW_NON_LOOPBACK"

const receiveBuffer = 1 << 16

func init() {
	modules.Register("k6/x/ecm-mqtt", new(RootModule))
}

// RootModule is the module as registered; k6 makes one ModuleInstance per VU.
type RootModule struct{}

// ModuleInstance is the module as one VU sees it.
type ModuleInstance struct {
	vu modules.VU
}

// NewModuleInstance implements modules.Module.
func (*RootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	return &ModuleInstance{vu: vu}
}

// Exports implements modules.Instance.
func (mi *ModuleInstance) Exports() modules.Exports {
	return modules.Exports{Named: map[string]any{
		"Client": mi.newClient,
		// Milliseconds since the epoch with microsecond resolution: a payload's send time taken
		// with it matches Message.receivedAt, which Date.now() (whole milliseconds) would not.
		"now": nowMillis,
	}}
}

// Options are the constructor's argument: new Client({brokerUrl, clientId, caFile, certFile, keyFile, ...}).
type Options struct {
	BrokerURL string
	ClientID  string
	CAFile    string
	CertFile  string
	KeyFile   string
	Timeout   time.Duration
	KeepAlive time.Duration
}

// Client is one MQTT connection with its own TLS identity.
type Client struct {
	vu       modules.VU
	options  Options
	tls      *tls.Config
	conn     paho.Client
	messages chan *Message
	dropped  atomic.Int64
	lost     atomic.Value // the error that ended the last connection, if it was lost
}

// Message is what receive() returns.
type Message struct {
	Topic      string  `js:"topic"`
	Payload    string  `js:"payload"`
	QoS        int     `js:"qos"`
	ReceivedAt float64 `js:"receivedAt"`
}

func nowMillis() float64 {
	return float64(time.Now().UnixMicro()) / 1000
}

func (mi *ModuleInstance) newClient(call sobek.ConstructorCall) *sobek.Object {
	rt := mi.vu.Runtime()
	options, err := readOptions(rt, call.Argument(0))
	if err != nil {
		common.Throw(rt, fmt.Errorf("ecm-mqtt: new Client: %w", err))
	}
	tlsConfig, err := loadTLS(options)
	if err != nil {
		common.Throw(rt, fmt.Errorf("ecm-mqtt: new Client(%s): %w", options.ClientID, err))
	}
	client := &Client{vu: mi.vu, options: options, tls: tlsConfig, messages: make(chan *Message, receiveBuffer)}
	return rt.ToValue(client).ToObject(rt)
}

func readOptions(rt *sobek.Runtime, arg sobek.Value) (Options, error) {
	if arg == nil || sobek.IsUndefined(arg) || sobek.IsNull(arg) {
		return Options{}, errors.New("options {brokerUrl, clientId, caFile, certFile, keyFile} are required")
	}
	obj := arg.ToObject(rt)
	text := func(name string) string {
		v := obj.Get(name)
		if v == nil || sobek.IsUndefined(v) || sobek.IsNull(v) {
			return ""
		}
		return v.String()
	}
	millis := func(name string, fallback int64) (time.Duration, error) {
		v := obj.Get(name)
		if v == nil || sobek.IsUndefined(v) {
			return time.Duration(fallback) * time.Millisecond, nil
		}
		n := v.ToInteger()
		if n <= 0 {
			return 0, fmt.Errorf("%s must be a positive number of milliseconds, got %s", name, v.String())
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	o := Options{BrokerURL: text("brokerUrl"), ClientID: text("clientId"), CAFile: text("caFile"), CertFile: text("certFile"), KeyFile: text("keyFile")}
	var err error
	if o.Timeout, err = millis("timeoutMs", 5000); err != nil {
		return o, err
	}
	if o.KeepAlive, err = millis("keepAliveMs", 60000); err != nil {
		return o, err
	}
	for name, value := range map[string]string{"brokerUrl": o.BrokerURL, "clientId": o.ClientID, "caFile": o.CAFile, "certFile": o.CertFile, "keyFile": o.KeyFile} {
		if value == "" {
			return o, fmt.Errorf("option %s is required", name)
		}
	}
	return o, checkBroker(o.BrokerURL)
}

// checkBroker accepts only mqtts:// URLs, and (unless lifted) only loopback hosts: the lab sends
// traffic to 127.0.0.0/8 and nowhere else.
func checkBroker(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("brokerUrl %q: %w", raw, err)
	}
	if u.Scheme != "mqtts" {
		return fmt.Errorf("brokerUrl %q: only mqtts:// (MQTT over TLS) is supported", raw)
	}
	if os.Getenv(AllowNonLoopbackEnv) == "true" {
		return nil
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("brokerUrl %q: the host must be a loopback address (set %s=true for a broker inside a cluster)", raw, AllowNonLoopbackEnv)
	}
	return nil
}

func loadTLS(o Options) (*tls.Config, error) {
	identity, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("client certificate %s / key %s: %w", o.CertFile, o.KeyFile, err)
	}
	caPEM, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("root CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("root CA %s: no PEM certificate in it", o.CAFile)
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{identity}, MinVersion: tls.VersionTLS12}, nil
}

// wait blocks until the token completes, the client's timeout passes or the VU is stopped.
func (c *Client) wait(what string, token paho.Token) error {
	timer := time.NewTimer(c.options.Timeout)
	defer timer.Stop()
	select {
	case <-token.Done():
		if err := token.Error(); err != nil {
			return fmt.Errorf("%s %s: %w", c.options.ClientID, what, err)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("%s %s: no answer within %s", c.options.ClientID, what, c.options.Timeout)
	case <-c.vu.Context().Done():
		return fmt.Errorf("%s %s: the test is stopping", c.options.ClientID, what)
	}
}

func (c *Client) connected() error {
	if c.conn == nil || !c.conn.IsConnectionOpen() {
		if lost, ok := c.lost.Load().(error); ok {
			return fmt.Errorf("%s: not connected (connection lost: %w)", c.options.ClientID, lost)
		}
		return fmt.Errorf("%s: not connected", c.options.ClientID)
	}
	return nil
}

// Connect opens the TLS connection, sends CONNECT and waits for CONNACK. It returns the time that
// took in milliseconds; a refusal (TLS alert, CONNACK code) is thrown with its cause.
func (c *Client) Connect() (float64, error) {
	if c.vu.State() == nil {
		return 0, errors.New("ecm-mqtt: connect() is not allowed in the init context")
	}
	if c.conn != nil && c.conn.IsConnectionOpen() {
		return 0, fmt.Errorf("%s: already connected", c.options.ClientID)
	}
	opts := paho.NewClientOptions().
		AddBroker(c.options.BrokerURL).
		SetClientID(c.options.ClientID).
		SetTLSConfig(c.tls).
		SetCleanSession(true).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(c.options.Timeout).
		SetWriteTimeout(c.options.Timeout).
		SetKeepAlive(c.options.KeepAlive).
		SetOrderMatters(false).
		SetConnectionLostHandler(func(_ paho.Client, err error) { c.lost.Store(err) })
	c.conn = paho.NewClient(opts)
	started := time.Now()
	err := c.wait("connect", c.conn.Connect())
	elapsed := float64(time.Since(started).Microseconds()) / 1000
	if err != nil {
		return elapsed, err
	}
	conn := c.conn
	go func() {
		<-c.vu.Context().Done()
		conn.Disconnect(0)
	}()
	return elapsed, nil
}

// Publish sends one message and, at QoS 1, waits for its PUBACK. It returns the time to
// completion in milliseconds.
func (c *Client) Publish(topic string, payload string, qos int) (float64, error) {
	if err := c.connected(); err != nil {
		return 0, err
	}
	if qos != 0 && qos != 1 {
		return 0, fmt.Errorf("%s publish: qos must be 0 or 1, got %d", c.options.ClientID, qos)
	}
	started := time.Now()
	err := c.wait("publish to "+topic, c.conn.Publish(topic, byte(qos), false, payload))
	return float64(time.Since(started).Microseconds()) / 1000, err
}

// Subscribe subscribes and waits for the SUBACK; a refused subscription (0x80) is an error.
func (c *Client) Subscribe(topic string, qos int) error {
	if err := c.connected(); err != nil {
		return err
	}
	token := c.conn.Subscribe(topic, byte(qos), func(_ paho.Client, m paho.Message) {
		msg := &Message{Topic: m.Topic(), Payload: string(m.Payload()), QoS: int(m.Qos()), ReceivedAt: nowMillis()}
		select {
		case c.messages <- msg:
		default:
			c.dropped.Add(1)
		}
	})
	if err := c.wait("subscribe to "+topic, token); err != nil {
		return err
	}
	if granted, ok := token.(*paho.SubscribeToken).Result()[topic]; ok && granted == 0x80 {
		return fmt.Errorf("%s subscribe to %s: refused by the broker (0x80)", c.options.ClientID, topic)
	}
	return nil
}

// Receive returns the next message, or null when none arrives within timeoutMs.
func (c *Client) Receive(timeoutMs int64) *Message {
	if timeoutMs <= 0 {
		select {
		case m := <-c.messages:
			return m
		default:
			return nil
		}
	}
	timer := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
	defer timer.Stop()
	select {
	case m := <-c.messages:
		return m
	case <-timer.C:
		return nil
	case <-c.vu.Context().Done():
		return nil
	}
}

// Dropped is how many received messages were discarded because the script did not take them
// from the buffer (receiveBuffer) in time; a script counts them as lost.
func (c *Client) Dropped() int64 {
	return c.dropped.Load()
}

// IsConnected tells whether the connection is open.
func (c *Client) IsConnected() bool {
	return c.conn != nil && c.conn.IsConnectionOpen()
}

// Close sends DISCONNECT; it is idempotent.
func (c *Client) Close() {
	if c.conn != nil && c.conn.IsConnectionOpen() {
		c.conn.Disconnect(100)
	}
}
