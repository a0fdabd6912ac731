// Package loopback keeps the lab's native clients on this machine: every address they dial or
// bind must be in 127.0.0.0/8, checked on the resolved address before a packet is sent.
package loopback

import (
	"fmt"
	"net"
	"syscall"
)

var block = &net.IPNet{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)}

// Allowed says whether ip is in 127.0.0.0/8.
func Allowed(ip net.IP) bool {
	return ip != nil && block.Contains(ip)
}

// CheckIP refuses an address (an IP literal) outside 127.0.0.0/8.
func CheckIP(what, address string) error {
	if !Allowed(net.ParseIP(address)) {
		return fmt.Errorf("%s %q is not in 127.0.0.0/8: the lab's clients target this machine's loopback range only", what, address)
	}
	return nil
}

// Control is a net.Dialer Control function: it runs on the resolved address just before the
// connect system call and refuses anything outside 127.0.0.0/8.
func Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	return CheckIP("target", host)
}

// Dialer binds `local` (a loopback address, "" for any) and refuses targets outside 127.0.0.0/8.
func Dialer(local string) (*net.Dialer, error) {
	d := &net.Dialer{Control: Control}
	if local != "" {
		if err := CheckIP("source address", local); err != nil {
			return nil, err
		}
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	return d, nil
}
