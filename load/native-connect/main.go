// ecm-connect: the native connect generator of the lab's handshake baseline (ecm-lab load
// --handshake-client native). It measures what one mutual-TLS MQTT connection costs a client
// that is not Node: Go's crypto/tls, the standard library only.
//
//	ecm-connect -plan plan.json    load every certificate, print {"ready":...}, wait for "go" on
//	                               stdin, connect all, print the result, exit when stdin closes
//	ecm-connect -version           the hash of the sources it was built from
//
// It waits for stdin to close before exiting so that the lab can read this process's CPU from
// /proc over the same window as the broker's.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// sourceHash is set at build time (scripts/build-native-connect.sh) from the sources' hash.
var sourceHash = "unknown"

type cpuMs struct {
	User   float64 `json:"user"`
	System float64 `json:"system"`
	Total  float64 `json:"total"`
}

func ownCPU() cpuMs {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	ms := func(t syscall.Timeval) float64 { return float64(t.Sec)*1000 + float64(t.Usec)/1000 }
	return cpuMs{User: ms(u.Utime), System: ms(u.Stime), Total: ms(u.Utime) + ms(u.Stime)}
}

func (a cpuMs) minus(b cpuMs) cpuMs {
	return cpuMs{User: a.User - b.User, System: a.System - b.System, Total: a.Total - b.Total}
}

type result struct {
	Connections int            `json:"connections"`
	OK          int            `json:"ok"`
	Failed      int            `json:"failed"`
	Failures    []failure      `json:"failures"`
	ConnackMs   []float64      `json:"connackLatencyMs"`
	ElapsedMs   float64        `json:"elapsedMs"`
	CPUMs       cpuMs          `json:"cpuMs"`
	ContextMs   cpuMs          `json:"contextCpuMs"`
	Negotiated  map[string]int `json:"negotiated"`
}

func die(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ecm-connect: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	planFile := flag.String("plan", "", "the JSON plan")
	version := flag.Bool("version", false, "print the hash of the sources it was built from")
	flag.Parse()
	if *version {
		fmt.Printf("ecm-connect %s\n", sourceHash)
		return
	}
	if *planFile == "" {
		die(2, "-plan <file> is required")
	}
	p, err := readPlan(*planFile)
	if err != nil {
		die(2, "%v", err)
	}
	before := ownCPU()
	configs, err := p.tlsConfigs()
	if err != nil {
		die(2, "%v", err)
	}
	contextCPU := ownCPU().minus(before)
	out := json.NewEncoder(os.Stdout)
	_ = out.Encode(map[string]any{"ready": true, "connections": len(configs), "contextCpuMs": contextCPU})
	stdin := bufio.NewReader(os.Stdin)
	waitForGo(stdin, p.overallTimeout())

	start, startCPU := time.Now(), ownCPU()
	outcomes := connectAll(p, configs)
	r := result{Connections: len(outcomes), Failures: []failure{}, ConnackMs: []float64{}, Negotiated: map[string]int{}, ContextMs: contextCPU}
	r.ElapsedMs = float64(time.Since(start).Microseconds()) / 1000
	r.CPUMs = ownCPU().minus(startCPU)
	for _, o := range outcomes {
		if o.failure != nil {
			r.Failed++
			r.Failures = append(r.Failures, *o.failure)
			continue
		}
		r.OK++
		r.ConnackMs = append(r.ConnackMs, float64(o.latency.Microseconds())/1000)
		r.Negotiated[o.negotiated]++
	}
	_ = out.Encode(r)
	// Exit once the lab has read this process's CPU (it closes stdin), bounded like the rest.
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
	}
}

func waitForGo(stdin *bufio.Reader, timeout time.Duration) {
	line := make(chan string, 1)
	go func() {
		text, err := stdin.ReadString('\n')
		if err != nil && text == "" {
			text = "(stdin closed)"
		}
		line <- text
	}()
	select {
	case text := <-line:
		if text != "go\n" {
			die(1, "expected \"go\" on stdin, got %q", text)
		}
	case <-time.After(timeout):
		die(1, "no \"go\" on stdin within %s", timeout)
	}
}
