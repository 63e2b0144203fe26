// Command rewind is the rewind CLI and, as "rewind daemon", the service.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "rewind: the CLI arrives with the daemon issue")
	os.Exit(2)
}
