package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// progress draws a one-line bar on stderr when it is a terminal.
type progress struct{ on bool }

func newProgress(want bool) *progress {
	return &progress{on: want && term.IsTerminal(int(os.Stderr.Fd()))}
}

func (p *progress) update(job map[string]any) {
	if !p.on {
		return
	}
	done, _ := job["done"].(float64)
	total, _ := job["total"].(float64)
	rate, _ := job["rate"].(float64)
	frac := 0.0
	if total > 0 {
		frac = min(done/total, 1)
	}
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
	fmt.Fprintf(os.Stderr, "\r%s %5.1f%% %s of %s  %s/s  %-10s", bar, frac*100,
		bytesHuman(done), bytesHuman(total), bytesHuman(rate), cell(job["status"]))
}

func (p *progress) done() {
	if p.on {
		fmt.Fprintln(os.Stderr)
	}
}
