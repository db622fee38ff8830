package preprocess

import (
	"encoding/binary"
	"image"
)

// MaxDecodedBytes bounds what decoding one image may allocate, as computed from its
// header by decodedBytes before any pixel is allocated: 512 MiB. MaxPixels alone
// does not bound it: the standard decoders allocate the whole canvas, and for a
// progressive JPEG every DCT coefficient too, from the header alone, so that a
// 40-byte file declaring a 7071x7071 progressive CMYK JPEG (within MaxPixels)
// allocated 1 GB before failing. Within this budget are every 50-megapixel PNG
// (400 MB at 16 bits per channel with alpha), baseline JPEG (200 MB in CMYK) and
// progressive JPEG with the usual 4:2:0 chroma (375 MB), and GIF.
const MaxDecodedBytes = 512 << 20

// decodedBytes returns an upper bound on what the standard decoder of format
// allocates for the image whose first bytes, header included, are head, and whose
// configuration is cfg (already checked to have pixels).
func decodedBytes(format string, cfg image.Config, head []byte) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "png":
		return px * pngBytesPerPixel(head)
	case "jpeg":
		if n, ok := jpegDecodedBytes(head); ok {
			return n
		}
		return px * (4 + 4*256/64) // unknown frame: 4 components, progressive
	}
	return px // GIF: one byte per pixel, the frame inside the logical screen
}

// pngBytesPerPixel returns what image/png allocates per pixel for the image whose
// IHDR chunk head holds (PNG specification, 11.2.2): 8 for 16-bit samples (RGBA64 or
// NRGBA64, which is also what a tRNS chunk after the header makes of grey or RGB), 1
// for a palette, 4 otherwise (grey with a tRNS chunk becomes NRGBA), doubled for
// Adam7 interlacing, whose passes are decoded into images of their own first.
func pngBytesPerPixel(head []byte) int64 {
	const ihdr = 8 + 8 // signature, then the chunk's length and type
	if len(head) < ihdr+13 {
		return 2 * 8
	}
	depth, colourType, interlace := head[ihdr+8], head[ihdr+9], head[ihdr+12]
	n := int64(4)
	switch {
	case depth == 16:
		n = 8
	case colourType == 3:
		n = 1
	}
	if interlace != 0 {
		n *= 2
	}
	return n
}

// jpegDecodedBytes returns what image/jpeg allocates for the frame whose SOF segment
// head holds: the planes of its components (each padded to whole MCUs, as the
// decoder makes them) and, for a progressive JPEG, a 64-coefficient block of int32
// per 8x8 block of each component, held until the last scan. ok is false if head has
// no SOF segment this understands.
func jpegDecodedBytes(head []byte) (n int64, ok bool) {
	sof, marker := jpegSegment(head, func(m byte, _ []byte) bool { return m == 0xc0 || m == 0xc1 || m == 0xc2 })
	// SOF: precision, height, width, component count, then 3 bytes per component
	// (ITU-T T.81, B.2.2).
	if sof == nil || len(sof) < 6 {
		return 0, false
	}
	h, w, nComp := int64(binary.BigEndian.Uint16(sof[1:])), int64(binary.BigEndian.Uint16(sof[3:])), int(sof[5])
	if nComp < 1 || len(sof) < 6+3*nComp {
		return 0, false
	}
	h0, v0 := int64(sof[7]>>4), int64(sof[7]&0x0f) // the first component's sampling sets the MCU
	if h0 == 0 || v0 == 0 {
		return 0, false
	}
	mxx, myy := (w+8*h0-1)/(8*h0), (h+8*v0-1)/(8*v0)
	for i := range nComp {
		hi, vi := int64(sof[6+3*i+1]>>4), int64(sof[6+3*i+1]&0x0f)
		blocks := mxx * myy * hi * vi
		n += blocks * 64 // the component's plane, one byte per sample
		if marker == 0xc2 {
			n += blocks * 64 * 4 // its coefficients
		}
	}
	return n, true
}

// jpegSegment returns the payload of the first segment before the image data of the
// JPEG that b begins with that match accepts, and its marker; nil if there is none
// within b, or b is damaged before one is found. It walks the markers of ITU-T T.81
// (B.1.1): fill bytes, markers without a length (SOI, TEM, RST0..7), and segments
// whose 16-bit length counts itself, each checked against len(b); it stops at SOS or
// EOI, where the image data or the file ends.
func jpegSegment(b []byte, match func(marker byte, payload []byte) bool) ([]byte, byte) {
	if len(b) < 2 || b[0] != 0xff || b[1] != markerSOI {
		return nil, 0
	}
	for i := 2; i+1 < len(b); {
		if b[i] != 0xff {
			return nil, 0
		}
		marker := b[i+1]
		switch {
		case marker == 0xff:
			i++
			continue
		case marker == markerSOS || marker == markerEOI:
			return nil, 0
		case marker == markerSOI || marker == markerTEM || 0xd0 <= marker && marker <= 0xd7:
			i += 2
			continue
		}
		if i+4 > len(b) {
			return nil, 0
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil, 0
		}
		if payload := b[i+4 : i+2+n]; match(marker, payload) {
			return payload, marker
		}
		i += 2 + n
	}
	return nil, 0
}
