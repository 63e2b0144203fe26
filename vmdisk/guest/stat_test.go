package guest

import (
	"os"
	"syscall"
)

func statT(fi os.FileInfo) [2]uint32 {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]uint32{}
	}
	return [2]uint32{st.Uid, st.Gid}
}
