package main

import (
	"bytes"
	"errors"
	"testing"
)

func TestConnectPacket(t *testing.T) {
	got, err := connectPacket("dev-1", 30)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x10, 17, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, 5, 'd', 'e', 'v', '-', '1'}
	if !bytes.Equal(got, want) {
		t.Fatalf("CONNECT\n got % x\nwant % x", got, want)
	}
	if _, err := connectPacket("", 30); err == nil {
		t.Fatal("an empty client id was accepted")
	}
}

func TestRemainingLength(t *testing.T) {
	for n, want := range map[int][]byte{0: {0}, 127: {0x7f}, 128: {0x80, 0x01}, 16383: {0xff, 0x7f}, 16384: {0x80, 0x80, 0x01}} {
		if got := remainingLength(n); !bytes.Equal(got, want) {
			t.Errorf("remainingLength(%d) = % x, want % x", n, got, want)
		}
	}
}

func TestReadConnack(t *testing.T) {
	if err := readConnack(bytes.NewReader([]byte{0x20, 0x02, 0, 0})); err != nil {
		t.Fatalf("CONNACK 0 refused: %v", err)
	}
	var refused *ConnackError
	if err := readConnack(bytes.NewReader([]byte{0x20, 0x02, 0, 5})); !errors.As(err, &refused) || refused.Code != 5 {
		t.Fatalf("CONNACK 5: got %v", err)
	}
	if err := readConnack(bytes.NewReader([]byte{0x20})); err == nil {
		t.Fatal("a truncated CONNACK was accepted")
	}
	if err := readConnack(bytes.NewReader([]byte{0x30, 0x02, 0, 0})); err == nil {
		t.Fatal("a PUBLISH was taken for CONNACK")
	}
}
