package main

// The three MQTT 3.1.1 packets a connect generator needs, written by hand on purpose: a client
// library brings per-connection goroutines, buffers and keep-alive timers, which would be part of
// what the handshake baseline measures, and a dependency to vet and pin; these packets are fixed.

import (
	"errors"
	"fmt"
	"io"
)

// connectPacket is CONNECT with a clean session, no will, no credentials (the identity is the
// TLS client certificate) and the given keep-alive [MQTT-3.1].
func connectPacket(clientID string, keepAliveSeconds uint16) ([]byte, error) {
	if len(clientID) == 0 || len(clientID) > 0xffff {
		return nil, fmt.Errorf("client id must be 1..65535 bytes (got %d)", len(clientID))
	}
	variable := []byte{0, 4, 'M', 'Q', 'T', 'T', 4 /* protocol level 3.1.1 */, 0x02 /* clean session */, byte(keepAliveSeconds >> 8), byte(keepAliveSeconds)}
	payload := append([]byte{byte(len(clientID) >> 8), byte(len(clientID))}, clientID...)
	remaining := len(variable) + len(payload)
	packet := append([]byte{0x10}, remainingLength(remaining)...)
	packet = append(packet, variable...)
	return append(packet, payload...), nil
}

// disconnectPacket is DISCONNECT [MQTT-3.14]: the broker then drops the session without a will.
var disconnectPacket = []byte{0xe0, 0x00}

func remainingLength(n int) []byte {
	var out []byte
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			return out
		}
	}
}

// connackNames are the return codes of MQTT 3.1.1 [MQTT-3.2.2.3].
var connackNames = map[byte]string{
	1: "unacceptable protocol version",
	2: "identifier rejected",
	3: "server unavailable",
	4: "bad user name or password",
	5: "not authorized",
}

// ConnackError is a CONNACK whose return code is not 0: the broker answered and refused.
type ConnackError struct{ Code byte }

func (e *ConnackError) Error() string {
	name, ok := connackNames[e.Code]
	if !ok {
		name = "reserved"
	}
	return fmt.Sprintf("CONNACK return code %d (%s)", e.Code, name)
}

// readConnack reads the broker's first packet and requires it to be CONNACK with code 0.
func readConnack(r io.Reader) error {
	var packet [4]byte
	if _, err := io.ReadFull(r, packet[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the broker closed the connection before CONNACK")
		}
		return err
	}
	if packet[0] != 0x20 || packet[1] != 0x02 {
		return fmt.Errorf("expected CONNACK (0x20 0x02), got 0x%02x 0x%02x", packet[0], packet[1])
	}
	if packet[3] != 0 {
		return &ConnackError{Code: packet[3]}
	}
	return nil
}
