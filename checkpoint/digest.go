package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/tapestry-ml/tapestry/safetensors"
)

// digest hashes a file of the current format: every metadata entry but the
// digest itself, in key order, then every tensor's name, dtype, shape and
// bytes in order. An edited option, a flipped byte anywhere in the data, or
// a renamed tensor changes it.
func digest(f *safetensors.File) string {
	h := sha256.New()
	for _, k := range sortedKeys(f.Metadata) {
		if k == metaDigest {
			continue
		}
		writeField(h, k)
		writeField(h, f.Metadata[k])
	}
	hashTensors(h, f.Tensors)
	return hex.EncodeToString(h.Sum(nil))
}

// tensorSumV1 is the first format's digest: the tensors only.
func tensorSumV1(ts []safetensors.Tensor) string {
	h := sha256.New()
	hashTensors(h, ts)
	return hex.EncodeToString(h.Sum(nil))
}

func hashTensors(h hash.Hash, ts []safetensors.Tensor) {
	var buf [8]byte
	for _, t := range ts {
		fmt.Fprintf(h, "%s\x00%s\x00%v\x00", t.Name, t.DType, t.Shape)
		binary.LittleEndian.PutUint64(buf[:], uint64(len(t.Data)))
		h.Write(buf[:])
		h.Write(t.Data)
	}
}

// writeField writes s with its length first, so that no two lists of fields
// hash alike.
func writeField(h hash.Hash, s string) {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
	h.Write(buf[:])
	h.Write([]byte(s))
}
