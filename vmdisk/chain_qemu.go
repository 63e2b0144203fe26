package vmdisk

import (
	"encoding/json"
	"fmt"
)

// blockdev is a QEMU block node description (the json: pseudo-protocol).
// Naming every file explicitly, "backing" included ("backing": null ends the
// chain), means qemu opens exactly the files rewind checked and never
// follows a name from an image header itself.
type blockdev map[string]any

func fileNode(path string) blockdev { return blockdev{"driver": "file", "filename": path} }

// qemuSpec is the json: filename that opens c (ReadChain's result) in qemu
// with exactly c's files, or only the image when imageOnly (for qemu-img
// bitmap operations, which never need the backing files).
func (c Chain) qemuSpec(imageOnly bool) (string, error) {
	if len(c) == 0 || c[0].Role != ChainImage {
		return "", fmt.Errorf("empty qcow2 chain")
	}
	var root, tail blockdev
	for i := 0; i < len(c); i++ {
		f := c[i]
		if f.Role == ChainDataFile {
			continue // attached to its image below
		}
		node := blockdev{"driver": f.Format, "file": fileNode(f.Path)}
		if i+1 < len(c) && c[i+1].Role == ChainDataFile {
			node["data-file"] = fileNode(c[i+1].Path)
		}
		if f.Format == "qcow2" {
			node["backing"] = nil
		}
		if root == nil {
			root = node
		} else {
			tail["backing"] = node
		}
		tail = node
		if imageOnly {
			break
		}
	}
	b, err := json.Marshal(root)
	if err != nil {
		return "", err
	}
	return "json:" + string(b), nil
}
