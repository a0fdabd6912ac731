package mqtt

import (
	"bytes"
	"errors"
	"testing"
)

func TestConnectPacket(t *testing.T) {
	got, err := ConnectPacket("dev-1", 30)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x10, 17, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, 5, 'd', 'e', 'v', '-', '1'}
	if !bytes.Equal(got, want) {
		t.Fatalf("CONNECT\n got % x\nwant % x", got, want)
	}
	if _, err := ConnectPacket("", 30); err == nil {
		t.Fatal("an empty client id was accepted")
	}
}

func TestRemainingLength(t *testing.T) {
	for n, want := range map[int][]byte{0: {0}, 127: {0x7f}, 128: {0x80, 0x01}, 16383: {0xff, 0x7f}, 16384: {0x80, 0x80, 0x01}} {
		if got := RemainingLength(n); !bytes.Equal(got, want) {
			t.Errorf("RemainingLength(%d) = % x, want % x", n, got, want)
		}
	}
}

func TestReadConnack(t *testing.T) {
	if err := ReadConnack(bytes.NewReader([]byte{0x20, 0x02, 0, 0})); err != nil {
		t.Fatalf("CONNACK 0 refused: %v", err)
	}
	var refused *ConnackError
	if err := ReadConnack(bytes.NewReader([]byte{0x20, 0x02, 0, 5})); !errors.As(err, &refused) || refused.Code != 5 {
		t.Fatalf("CONNACK 5: got %v", err)
	}
	if err := ReadConnack(bytes.NewReader([]byte{0x20})); err == nil {
		t.Fatal("a truncated CONNACK was accepted")
	}
	if err := ReadConnack(bytes.NewReader([]byte{0x30, 0x02, 0, 0})); err == nil {
		t.Fatal("a PUBLISH was taken for CONNACK")
	}
}

func TestSessionConnectPacketKeepsTheSession(t *testing.T) {
	got, err := SessionConnectPacket("dev-1", 30, false)
	if err != nil {
		t.Fatal(err)
	}
	if got[9] != 0x00 {
		t.Fatalf("connect flags 0x%02x, want 0x00 (persistent session)", got[9])
	}
}

func TestPublishAndPuback(t *testing.T) {
	got, err := PublishPacket("a/b", 0x0102, []byte("hi"), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x32, 9, 0, 3, 'a', '/', 'b', 0x01, 0x02, 'h', 'i'}
	if !bytes.Equal(got, want) {
		t.Fatalf("PUBLISH\n got % x\nwant % x", got, want)
	}
	p, err := ReadPacket(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	topic, id, payload, err := p.IncomingPublish()
	if err != nil || topic != "a/b" || id != 0x0102 || string(payload) != "hi" {
		t.Fatalf("read back %q %d %q %v", topic, id, payload, err)
	}
	ack, err := ReadPacket(bytes.NewReader(PubackPacket(7)))
	if err != nil || ack.Type != TypePuback {
		t.Fatalf("PUBACK read as %+v, %v", ack, err)
	}
	if id, _ := ack.PacketID(); id != 7 {
		t.Fatalf("PUBACK id %d, want 7", id)
	}
	if _, err := PublishPacket("a", 0, nil, 1); err == nil {
		t.Fatal("a QoS 1 PUBLISH without a packet id was accepted")
	}
}

func TestSubscribePacket(t *testing.T) {
	want := []byte{0x82, 8, 0, 1, 0, 3, 'c', 'm', 'd', 1}
	if got := SubscribePacket(1, "cmd", 1); !bytes.Equal(got, want) {
		t.Fatalf("SUBSCRIBE\n got % x\nwant % x", got, want)
	}
}

func TestReadPacketRefusesMalformedLength(t *testing.T) {
	if _, err := ReadPacket(bytes.NewReader([]byte{0x30, 0xff, 0xff, 0xff, 0xff})); err == nil {
		t.Fatal("a five-byte remaining length was accepted")
	}
}
