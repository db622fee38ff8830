package preprocess

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
)

// JPEG markers (ITU-T T.81, table B.1) that jpegSegment must tell apart.
const (
	markerSOI  = 0xd8 // start of image
	markerEOI  = 0xd9 // end of image
	markerSOS  = 0xda // start of scan: the entropy-coded data follows
	markerAPP1 = 0xe1 // application segment 1, where EXIF lives
	markerTEM  = 0x01 // a marker without a length, like RST0..RST7 (0xd0..0xd7)
)

// tagOrientation is the EXIF (TIFF 6.0) Orientation tag of IFD0.
const tagOrientation = 0x0112

// jpegOrientation returns the EXIF orientation, 1 to 8, of the JPEG file that b
// begins with: that of the first APP1 segment holding "Exif\0\0" before the image
// data. Every read is checked against len(b) and each segment against its own
// 16-bit length (jpegSegment), so a damaged or absent EXIF gives 1 (as stored), never
// a panic.
func jpegOrientation(b []byte) int {
	seg, _ := jpegSegment(b, func(marker byte, payload []byte) bool {
		return marker == markerAPP1 && bytes.HasPrefix(payload, exifHeader)
	})
	if seg == nil {
		return 1
	}
	return exifOrientation(seg[len(exifHeader):])
}

// exifHeader opens the APP1 segment that holds EXIF (EXIF 2.3, section 4.5.4).
var exifHeader = []byte("Exif\x00\x00")

// exifOrientation returns the Orientation (tag 0x0112) of IFD0 in the TIFF structure
// t that an EXIF segment holds after "Exif\0\0" (EXIF 2.3, section 4.5.2; TIFF 6.0,
// section 2), in either byte order; 1 if it is absent, out of range or anything on
// the way is damaged. The value is a SHORT by the standard; a LONG, which some
// writers use, is read too.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 1
	}
	count := uint64(bo.Uint16(t[off:]))
	entries := t[off+2:]
	if count*12 > uint64(len(entries)) {
		return 1 // the directory runs past the segment
	}
	for i := uint64(0); i < count; i++ {
		e := entries[12*i : 12*i+12]
		if bo.Uint16(e) != tagOrientation {
			continue
		}
		var v uint32
		switch typ, n := bo.Uint16(e[2:]), bo.Uint32(e[4:]); {
		case n != 1:
			return 1
		case typ == 3: // SHORT, left-justified in the 4-byte value field
			v = uint32(bo.Uint16(e[8:]))
		case typ == 4: // LONG
			v = bo.Uint32(e[8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}

// upright returns img as a person sees it given its EXIF orientation: img itself for
// 1 (or anything out of range), otherwise a view that maps each displayed pixel to the
// stored one.
func upright(img image.Image, orientation int) image.Image {
	if orientation < 2 || orientation > 8 {
		return img
	}
	b := img.Bounds()
	o := &oriented{src: img, orientation: orientation, w: b.Dx(), h: b.Dy()}
	if orientation >= 5 { // the four that swap rows and columns
		o.w, o.h = b.Dy(), b.Dx()
	}
	return o
}

// oriented is src shown according to an EXIF orientation 2..8, w x h pixels with
// bounds at the origin.
//
// The convention is EXIF 2.3's table for tag 0x0112, which says where the stored
// image's row 0 and column 0 are to be shown, and so which transform shows it upright:
//
//	1  row 0 top,    column 0 left:   as stored
//	2  row 0 top,    column 0 right:  mirror left to right
//	3  row 0 bottom, column 0 right:  rotate 180°
//	4  row 0 bottom, column 0 left:   mirror top to bottom
//	5  row 0 left,   column 0 top:    transpose (mirror across the main diagonal)
//	6  row 0 right,  column 0 top:    rotate 90° clockwise
//	7  row 0 right,  column 0 bottom: transverse (mirror across the other diagonal)
//	8  row 0 left,   column 0 bottom: rotate 90° counter-clockwise
//
// the same as Pillow's ImageOps.exif_transpose (6 is its ROTATE_270, which is
// counter-clockwise 270°) and libjpeg-turbo's jpegtran -rotate 90 for 6. The test
// builds each stored image from the table's words alone; Pillow 9.4's exif_transpose
// turns the test's files upright too (checked by hand: PREPROCESS_ORIENTATION_DIR
// keeps them).
type oriented struct {
	src         image.Image
	orientation int
	w, h        int
}

func (m *oriented) ColorModel() color.Model { return m.src.ColorModel() }

func (m *oriented) Bounds() image.Rectangle { return image.Rect(0, 0, m.w, m.h) }

func (m *oriented) At(x, y int) color.Color {
	if !image.Pt(x, y).In(m.Bounds()) {
		b := m.src.Bounds()
		return m.src.At(b.Min.X-1, b.Min.Y-1) // src's own zero colour, outside its bounds
	}
	return m.src.At(m.source(x, y))
}

// source returns the stored pixel shown at (x, y), which must be inside m's bounds.
func (m *oriented) source(x, y int) (int, int) {
	b := m.src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	var sx, sy int
	switch m.orientation {
	case 2:
		sx, sy = sw-1-x, y
	case 3:
		sx, sy = sw-1-x, sh-1-y
	case 4:
		sx, sy = x, sh-1-y
	case 5:
		sx, sy = y, x
	case 6:
		sx, sy = y, sh-1-x
	case 7:
		sx, sy = sw-1-y, sh-1-x
	case 8:
		sx, sy = sw-1-y, x
	default:
		sx, sy = x, y
	}
	return b.Min.X + sx, b.Min.Y + sy
}
