package loopback

import (
	"strings"
	"testing"
)

func TestOnlyTheLoopbackRange(t *testing.T) {
	for _, ok := range []string{"127.0.0.1", "127.255.1.2"} {
		if err := CheckIP("target", ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"10.0.0.1", "192.168.1.1", "8.8.8.8", "::1", "localhost", ""} {
		if err := CheckIP("target", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestControlRefusesBeforeConnecting(t *testing.T) {
	// Control runs on the resolved address before connect(2); it is called here directly, so
	// that this test sends nothing anywhere even were the check missing.
	if err := Control("tcp", "192.0.2.1:80", nil); err == nil || !strings.Contains(err.Error(), "not in 127.0.0.0/8") {
		t.Fatalf("a target outside the loopback range: %v", err)
	}
	if err := Control("tcp", "127.0.0.1:80", nil); err != nil {
		t.Fatalf("a loopback target refused: %v", err)
	}
	if _, err := Dialer("10.1.2.3"); err == nil {
		t.Fatal("a source address outside 127.0.0.0/8 was accepted")
	}
}
