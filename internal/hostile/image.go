package hostile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
)

// digit draws a light 28·k-square canvas with a dark vertical stroke: a
// "1" as a person would write it.
func digit(k int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 28*k, 28*k))
	for i := range img.Pix {
		img.Pix[i] = 250
	}
	for y := 5 * k; y < 23*k; y++ {
		for x := 13 * k; x < 16*k; x++ {
			img.SetGray(x, y, color.Gray{Y: 20})
		}
	}
	return img
}

// Images returns damaged image files, made here from a drawn digit: PNG,
// JPEG (with an EXIF orientation) and GIF files truncated, with bits
// flipped, with dimensions and other header fields edited (PNG's CRC
// recomputed, so that the decoder sees the edit), EXIF segments that lie,
// and files of formats that are not accepted.
func Images() []Case {
	var cases []Case
	add := func(class Class, scope Scope, name string, b []byte) {
		cases = append(cases, Case{Class: class, Name: name, Scope: scope, Data: b})
	}
	var p bytes.Buffer
	png.Encode(&p, digit(2))
	cases = append(cases, pngCases(p.Bytes())...)
	var j bytes.Buffer
	jpeg.Encode(&j, digit(2), &jpeg.Options{Quality: 90})
	cases = append(cases, jpegCases(withEXIF(j.Bytes(), exifOrientation(6)))...)
	var g bytes.Buffer
	gif.Encode(&g, digit(1), nil)
	cases = append(cases, gifCases(g.Bytes())...)
	for _, o := range []struct{ name, data string }{
		{"a little-endian TIFF", "II*\x00\x08\x00\x00\x00\x00\x00"},
		{"a big-endian TIFF", "MM\x00*\x00\x00\x00\x08\x00\x00"},
		{"a BMP", "BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"},
		{"a WebP", "RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"},
		{"an SVG", `<svg xmlns="http://www.w3.org/2000/svg"/>`},
		{"text", "a handwritten seven"},
		{"a PNG signature alone", "\x89PNG\r\n\x1a\n"},
	} {
		add(Header, All, o.name, []byte(o.data))
	}
	return cases
}

func truncations(b []byte, offs []int, scope func(n int) Scope) []Case {
	var out []Case
	for _, n := range offs {
		if n >= 0 && n < len(b) {
			out = append(out, Case{Class: Truncation, Scope: scope(n), Name: fmt.Sprintf("cut to %d of %d bytes", n, len(b)), Data: append([]byte(nil), b[:n]...)})
		}
	}
	return out
}

func flips(b []byte, offs []int, scope Scope) []Case {
	var out []Case
	for _, n := range offs {
		if n >= 0 && n < len(b) {
			c := append([]byte(nil), b...)
			c[n] ^= 0x10
			out = append(out, Case{Class: BitFlip, Scope: scope, Name: fmt.Sprintf("bit 4 of byte %d flipped", n), Data: c})
		}
	}
	return out
}

// pngCases damages a PNG. Its IHDR chunk starts at byte 8: length, "IHDR",
// width, height, bit depth, colour type, compression, filter, interlace,
// CRC.
func pngCases(good []byte) []Case {
	out := truncations(good, []int{0, 1, 8, 16, 24, 33, len(good) / 2, len(good) - 13, len(good) - 1}, func(n int) Scope {
		if n >= len(good)-12 {
			return Any // only IEND is missing
		}
		return All
	})
	out = append(out, flips(good, []int{1, 12, 16, 20, 29, 40, len(good) / 2}, All)...)
	ihdr := func(name string, edit func(h []byte)) {
		b := append([]byte(nil), good...)
		edit(b[16:29])
		binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
		out = append(out, Case{Class: Header, Scope: All, Name: "PNG " + name + ", CRC fixed", Data: b})
	}
	dims := func(w, h uint32) func([]byte) {
		return func(b []byte) { binary.BigEndian.PutUint32(b[0:], w); binary.BigEndian.PutUint32(b[4:], h) }
	}
	ihdr("width 0", dims(0, 56))
	ihdr("2^31-1 × 2^31-1", dims(1<<31-1, 1<<31-1))
	ihdr("100000 × 100000", dims(100000, 100000))
	ihdr("1 × 60000000", dims(1, 60000000))
	ihdr("bit depth 3", func(b []byte) { b[8] = 3 })
	ihdr("colour type 7", func(b []byte) { b[9] = 7 })
	ihdr("interlace 9", func(b []byte) { b[12] = 9 })
	b := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(b[8:], 0xffffffff)
	out = append(out, Case{Class: Header, Scope: All, Name: "PNG IHDR length 2^32-1", Data: b})
	return out
}

// exifOrientation is an APP1 EXIF segment's payload whose first IFD holds
// one entry, the orientation (tag 0x0112, a SHORT).
func exifOrientation(v uint16) []byte {
	b := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00")
	b = binary.LittleEndian.AppendUint16(b, v)
	return append(b, 0, 0, 0, 0, 0, 0) // value padding, no next IFD
}

// withEXIF inserts an APP1 segment holding payload after a JPEG's SOI.
func withEXIF(jpg, payload []byte) []byte {
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte(nil), jpg[:2]...)
	return append(append(append(out, seg...), payload...), jpg[2:]...)
}

// jpegCases damages a JPEG that starts SOI, APP1 (EXIF).
func jpegCases(good []byte) []Case {
	out := truncations(good, []int{0, 1, 2, 4, 20, 40, 200, len(good) / 2, len(good) - 2, len(good) - 1}, func(n int) Scope {
		if n >= len(good)-2 {
			return Any // only the end marker is missing
		}
		return All
	})
	// Flipped bits in the entropy-coded data decode to other pixels.
	out = append(out, flips(good, []int{len(good) / 2, len(good) - 40, len(good) - 20}, Any)...)
	sof := bytes.Index(good, []byte{0xff, 0xc0})
	if sof > 0 {
		sofEdit := func(name string, scope Scope, edit func(s []byte)) {
			b := append([]byte(nil), good...)
			edit(b[sof:])
			out = append(out, Case{Class: Header, Scope: scope, Name: "JPEG " + name, Data: b})
		}
		sofEdit("of 65535 × 65535", All, func(s []byte) { binary.BigEndian.PutUint16(s[5:], 65535); binary.BigEndian.PutUint16(s[7:], 65535) })
		sofEdit("of height 0", All, func(s []byte) { binary.BigEndian.PutUint16(s[5:], 0) })
		sofEdit("of 5 components", All, func(s []byte) { s[9] = 5 })
		sofEdit("of precision 12", All, func(s []byte) { s[4] = 12 })
	}
	exif := func(name string, scope Scope, payload []byte) {
		b := append([]byte(nil), good[:2]...)
		rest := good[2:]
		if rest[0] == 0xff && rest[1] == 0xe1 {
			rest = rest[2+int(binary.BigEndian.Uint16(rest[2:])):]
		}
		seg := []byte{0xff, 0xe1, 0, 0}
		binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
		b = append(append(append(b, seg...), payload...), rest...)
		out = append(out, Case{Class: Content, Scope: scope, Name: "JPEG EXIF " + name, Data: b})
	}
	for _, v := range []uint16{0, 9, 65535} {
		exif(fmt.Sprintf("orientation %d", v), Any, exifOrientation(v))
	}
	ifd := exifOrientation(3)
	binary.LittleEndian.PutUint32(ifd[10:], 0xfffffff0)
	exif("IFD offset past the end", Any, ifd)
	count := exifOrientation(3)
	binary.LittleEndian.PutUint16(count[14:], 65535)
	exif("of 65535 entries", Any, count)
	exif("cut after its header", Any, []byte("Exif\x00\x00II*\x00"))
	long := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(long[4:], 0xffff)
	out = append(out, Case{Class: Header, Scope: All, Name: "JPEG APP1 length past the end", Data: long})
	return out
}

// gifCases damages a GIF: its logical screen is bytes 6 to 9, its first
// image descriptor follows the colour table.
func gifCases(good []byte) []Case {
	out := truncations(good, []int{0, 3, 6, 10, 13, len(good) / 2, len(good) - 2}, func(int) Scope { return All })
	edit := func(name string, at int, w, h uint16) {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint16(b[at:], w)
		binary.LittleEndian.PutUint16(b[at+2:], h)
		out = append(out, Case{Class: Header, Scope: All, Name: "GIF " + name, Data: b})
	}
	edit("screen of 65535 × 65535", 6, 65535, 65535)
	if d := gifDescriptor(good); d > 0 {
		edit("frame of 65535 × 65535", d+5, 65535, 65535)
	}
	return out
}

// gifDescriptor returns the offset of a GIF's first image descriptor (after
// the global colour table and any extension blocks), or -1.
func gifDescriptor(b []byte) int {
	pos := 13
	if b[10]&0x80 != 0 {
		pos += 3 << (b[10]&7 + 1)
	}
	for pos+2 < len(b) && b[pos] == 0x21 {
		pos += 2
		for pos < len(b) && b[pos] != 0 {
			pos += int(b[pos]) + 1
		}
		pos++
	}
	if pos+9 < len(b) && b[pos] == 0x2c {
		return pos
	}
	return -1
}
