// Command k6 is k6 v1.8.1 with the lab's MQTT extension compiled in: what `xk6 build --with`
// would generate, written out so that the bootstrap builds it with `go build` from pinned modules.
package main

import (
	k6cmd "go.k6.io/k6/cmd"

	_ "ecm-lab.local/xk6-ecm-mqtt/mqtt"
)

func main() {
	k6cmd.Execute()
}
