package vmdisk

import (
	"encoding/json"
	"fmt"
)

// sourceState is what SourceState holds (JSON): how the next backup can
// tell whether the source's change tracking continues from this point.
type sourceState struct {
	V          int    `json:"v"`
	Kind       string `json:"kind"`
	Bitmap     string `json:"bitmap,omitempty"`     // user's bitmap base name
	Gen        int    `json:"gen,omitempty"`        // qcow2: generation tracking changes since this point
	Checkpoint string `json:"checkpoint,omitempty"` // NBD: caller's checkpoint name
}

const (
	stateQcow2 = "qcow2-bitmap"
	stateNBD   = "nbd-checkpoint"
)

func encodeState(s sourceState) string {
	s.V = 1
	b, _ := json.Marshal(s)
	return string(b)
}

func decodeState(s string) (sourceState, error) {
	var st sourceState
	if s == "" {
		return st, nil
	}
	if err := json.Unmarshal([]byte(s), &st); err != nil || st.V != 1 {
		return st, fmt.Errorf("previous source state %q is not one this version wrote", printable([]byte(s)))
	}
	return st, nil
}
