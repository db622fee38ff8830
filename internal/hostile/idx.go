package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
)

// IDX returns damaged copies of good, an uncompressed IDX file of MNIST
// (images, magic 0x803, or labels, 0x801), raw and gzipped: truncated, with
// bits flipped, with each header field edited (the magic, the count and
// the dimensions made zero, one off, absurd), labels out of range, and
// gzip streams that are cut, corrupted, followed by garbage or claiming
// 2^31 images over a few mebibytes of data.
func IDX(good []byte) ([]Case, error) {
	if len(good) < 8 {
		return nil, errors.New("not an IDX file")
	}
	magic := binary.BigEndian.Uint32(good)
	dims := int(magic & 0xff)
	header := 4 + 4*dims
	var cases []Case
	add := func(class Class, scope Scope, name string, b []byte) {
		cases = append(cases, Case{Class: class, Name: name, Scope: scope, Data: b})
	}
	offs := []int{0, 1, 3, 4, 7, 8, header - 1, header, header + 1, len(good) / 2, len(good) - 1}
	for _, n := range offs {
		if n >= 0 && n < len(good) {
			add(Truncation, All, fmt.Sprintf("cut to %d of %d bytes", n, len(good)), append([]byte(nil), good[:n]...))
		}
	}
	for i := 0; i < header; i += 1 + i/4 {
		b := append([]byte(nil), good...)
		b[i] ^= 0x80
		add(BitFlip, All, fmt.Sprintf("bit 7 of header byte %d flipped", i), b)
	}
	for k := 1; k <= 4; k++ {
		at := header + k*(len(good)-header)/5
		b := append([]byte(nil), good...)
		b[at] ^= 0x01
		// A pixel may be any byte, and a label's lowest bit flipped is
		// still 0 to 9: the file stays valid.
		add(BitFlip, Any, fmt.Sprintf("bit 0 of data byte %d flipped", at), b)
	}
	set := func(name string, at int, v uint32) {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[at:], v)
		add(Header, All, name, b)
	}
	n := binary.BigEndian.Uint32(good[4:])
	set("magic 0", 0, 0)
	set("magic of the other kind", 0, magic^0x02)
	set("magic of 4 dimensions", 0, magic&^0xff|4)
	set("magic of float data", 0, magic&^0xff00|0x0d00)
	for _, v := range []uint32{0, n - 1, n + 1, 1 << 31, 0xffffffff} {
		set(fmt.Sprintf("count %d (is %d)", v, n), 4, v)
	}
	for d := 1; d < dims; d++ {
		for _, v := range []uint32{0, 27, 29, 1 << 16, 0xffffffff} {
			set(fmt.Sprintf("dimension %d = %d", d, v), 4+4*d, v)
		}
	}
	if dims == 1 && len(good) > header {
		for _, v := range []byte{10, 255} {
			b := append([]byte(nil), good...)
			b[len(b)-1] = v
			add(Content, All, fmt.Sprintf("last label %d", v), b)
		}
	}
	return append(cases, gzipCases(good, header)...), nil
}

// gzipCases are good gzipped, then damaged: cut, its checksum flipped,
// followed by garbage or a second stream, and a gzip of a header claiming
// 2^31 items over 2 MiB of data.
func gzipCases(good []byte, header int) []Case {
	var cases []Case
	add := func(class Class, scope Scope, name string, b []byte) {
		cases = append(cases, Case{Class: class, Name: name, Scope: scope, Data: b})
	}
	gz := gzipped(good)
	add(Content, Any, "the good file, gzipped", gz)
	for _, k := range []int{2, 10, 18, len(gz) / 2, len(gz) - 8, len(gz) - 1} {
		add(Truncation, All, fmt.Sprintf("gzip cut to %d of %d bytes", k, len(gz)), append([]byte(nil), gz[:k]...))
	}
	crc := append([]byte(nil), gz...)
	crc[len(crc)-6] ^= 0xff
	add(BitFlip, All, "gzip checksum flipped", crc)
	add(Content, All, "gzip followed by garbage", append(append([]byte(nil), gz...), "garbage"...))
	add(Content, All, "two gzip streams", append(append([]byte(nil), gz...), gz...))
	cases = append(cases, Case{Class: Header, Scope: All, Name: "gzip claiming 2^31 items over 2 MiB of data", build: func() ([]byte, error) {
		bomb := append([]byte(nil), good[:header]...)
		binary.BigEndian.PutUint32(bomb[4:], 1<<31)
		noise := make([]byte, 2<<20)
		r := rand.New(rand.NewChaCha8([32]byte{1}))
		for i := range noise {
			noise[i] = byte(r.Uint32()) % 10 // valid labels, any pixels
		}
		return gzipped(append(bomb, noise...)), nil
	}})
	return cases
}

// gzipped compresses b.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}
