// Package mqtt holds the MQTT 3.1.1 packets the lab's native clients need (ecm-connect's
// CONNECT/CONNACK/DISCONNECT, ecm-device's session, SUBSCRIBE and QoS 1 PUBLISH/PUBACK), written
// by hand on purpose: a client library brings per-connection goroutines, buffers and keep-alive
// timers, which would be part of what the lab measures, and a dependency to vet and pin; these
// packets are fixed.
package mqtt

import (
	"errors"
	"fmt"
	"io"
)

// ConnectPacket is CONNECT with a clean session, no will, no credentials (the identity is the
// TLS client certificate) and the given keep-alive [MQTT-3.1].
func ConnectPacket(clientID string, keepAliveSeconds uint16) ([]byte, error) {
	return SessionConnectPacket(clientID, keepAliveSeconds, true)
}

// SessionConnectPacket is CONNECT with the clean-session flag given: false asks the broker for a
// persistent session (subscriptions and queued QoS 1 messages kept across a reconnect)
// [MQTT-3.1.2-4].
func SessionConnectPacket(clientID string, keepAliveSeconds uint16, clean bool) ([]byte, error) {
	if len(clientID) == 0 || len(clientID) > 0xffff {
		return nil, fmt.Errorf("client id must be 1..65535 bytes (got %d)", len(clientID))
	}
	var flags byte
	if clean {
		flags = 0x02
	}
	variable := []byte{0, 4, 'M', 'Q', 'T', 'T', 4 /* protocol level 3.1.1 */, flags, byte(keepAliveSeconds >> 8), byte(keepAliveSeconds)}
	payload := append([]byte{byte(len(clientID) >> 8), byte(len(clientID))}, clientID...)
	remaining := len(variable) + len(payload)
	packet := append([]byte{0x10}, RemainingLength(remaining)...)
	packet = append(packet, variable...)
	return append(packet, payload...), nil
}

// DisconnectPacket is DISCONNECT [MQTT-3.14]: the broker then drops the session without a will.
var DisconnectPacket = []byte{0xe0, 0x00}

// PingreqPacket is PINGREQ [MQTT-3.12]: the keep-alive of an idle session.
var PingreqPacket = []byte{0xc0, 0x00}

// Packet types (the high nibble of the first byte) [MQTT-2.2.1].
const (
	TypePublish  = 3
	TypePuback   = 4
	TypeSuback   = 9
	TypePingresp = 13
)

func utf8String(s string) []byte {
	return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...)
}

func packet(first byte, body []byte) []byte {
	return append(append([]byte{first}, RemainingLength(len(body))...), body...)
}

// PublishPacket is PUBLISH at QoS 0 or 1 (QoS 1 carries the packet id the PUBACK returns),
// neither retained nor a duplicate [MQTT-3.3].
func PublishPacket(topic string, packetID uint16, payload []byte, qos byte) ([]byte, error) {
	if len(topic) == 0 || len(topic) > 0xffff || qos > 1 || (qos == 1 && packetID == 0) {
		return nil, fmt.Errorf("PUBLISH: invalid topic length %d, QoS %d or packet id %d", len(topic), qos, packetID)
	}
	body := utf8String(topic)
	if qos == 1 {
		body = append(body, byte(packetID>>8), byte(packetID))
	}
	return packet(0x30|qos<<1, append(body, payload...)), nil
}

// SubscribePacket is SUBSCRIBE to one topic filter at the given QoS [MQTT-3.8]; its fixed
// header's flags are 0010 [MQTT-3.8.1-1].
func SubscribePacket(packetID uint16, filter string, qos byte) []byte {
	body := append([]byte{byte(packetID >> 8), byte(packetID)}, utf8String(filter)...)
	return packet(0x82, append(body, qos))
}

// PubackPacket acknowledges a QoS 1 PUBLISH the broker sent [MQTT-3.4].
func PubackPacket(packetID uint16) []byte {
	return []byte{0x40, 0x02, byte(packetID >> 8), byte(packetID)}
}

// Packet is one packet read from the broker: its type, the flags of its fixed header and its body.
type Packet struct {
	Type  byte
	Flags byte
	Body  []byte
}

// maxPacket bounds what a device accepts from the broker (its own commands are small).
const maxPacket = 1 << 20

// ReadPacket reads one whole packet.
func ReadPacket(r io.Reader) (Packet, error) {
	var first [1]byte
	if _, err := io.ReadFull(r, first[:]); err != nil {
		return Packet{}, err
	}
	length, multiplier := 0, 1
	for i := 0; ; i++ {
		if i == 4 {
			return Packet{}, errors.New("malformed remaining length")
		}
		var b [1]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Packet{}, err
		}
		length += int(b[0]&0x7f) * multiplier
		if b[0]&0x80 == 0 {
			break
		}
		multiplier *= 128
	}
	if length > maxPacket {
		return Packet{}, fmt.Errorf("a packet of %d bytes is more than a device accepts", length)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return Packet{}, err
	}
	return Packet{Type: first[0] >> 4, Flags: first[0] & 0x0f, Body: body}, nil
}

// PacketID is the packet id of a PUBACK or SUBACK (the first two bytes of its body).
func (p Packet) PacketID() (uint16, error) {
	if len(p.Body) < 2 {
		return 0, fmt.Errorf("packet type %d without a packet id", p.Type)
	}
	return uint16(p.Body[0])<<8 | uint16(p.Body[1]), nil
}

// IncomingPublish is the topic, packet id (0 at QoS 0) and payload of a PUBLISH the broker sent.
func (p Packet) IncomingPublish() (topic string, packetID uint16, payload []byte, err error) {
	if p.Type != TypePublish || len(p.Body) < 2 {
		return "", 0, nil, errors.New("not a PUBLISH")
	}
	n := int(p.Body[0])<<8 | int(p.Body[1])
	rest := p.Body[2:]
	if len(rest) < n {
		return "", 0, nil, errors.New("PUBLISH topic longer than the packet")
	}
	topic, rest = string(rest[:n]), rest[n:]
	if (p.Flags>>1)&3 > 0 {
		if len(rest) < 2 {
			return "", 0, nil, errors.New("PUBLISH at QoS > 0 without a packet id")
		}
		packetID, rest = uint16(rest[0])<<8|uint16(rest[1]), rest[2:]
	}
	return topic, packetID, rest, nil
}

func RemainingLength(n int) []byte {
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

// ReadConnack reads the broker's first packet and requires it to be CONNACK with code 0.
func ReadConnack(r io.Reader) error {
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
