package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned
// byte), then the number of dimensions. See http://yann.lecun.com/exdb/mnist/.
const (
	imagesMagic = 0x00000803 // uint8, 3 dimensions: count, rows, cols
	labelsMagic = 0x00000801 // uint8, 1 dimension: count
)

// startCap is the first buffer size when the real data size is not known
// beforehand (gzip, or a reader of unknown size): the buffer then doubles as data
// actually arrives, so a lying header cannot make us allocate, and what is
// allocated is at most about four times the bytes read (the buffers, each twice
// the one before, sum to twice the last, itself at most twice the data).
//
// The compressed size is no guide: deflate can expand its input 1032 times (zlib
// FAQ), so a first guess of compressed size times that ratio let a 10 MB gzip
// whose header claims 2^31 images allocate 10 GB before a byte was decompressed.
const startCap = 64 << 10

// gzipMagic opens every gzip stream (RFC 1952, section 2.3.1).
var gzipMagic = [2]byte{0x1f, 0x8b}

// ReadImages reads an IDX image file, raw or gzipped (told apart by the
// gzip magic bytes, not the name). It returns n images of Rows×Cols pixels,
// row-major, one byte each (0 = background, 255 = ink).
//
// The file must be a regular file (fileio.Open): a directory, FIFO or device
// is refused by its type. Memory follows the data actually read, never the
// count the header claims; a header that claims more than the data holds is an
// error naming the file, the count claimed and the count there.
func ReadImages(path string) (pixels []uint8, n int, err error) {
	f, size, err := open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return DecodeImages(f, size, path)
}

// ReadLabels reads an IDX label file, raw or gzipped, and checks every label
// is a digit 0..9.
func ReadLabels(path string) ([]uint8, error) {
	f, size, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeLabels(f, size, path)
}

// open opens an IDX file, refusing what is not a regular file, and returns its
// size as the opened descriptor's fstat gives it.
func open(path string) (*os.File, int64, error) {
	f, info, err := fileio.Open(path)
	if err != nil {
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// DecodeImages is ReadImages over a reader. size is the number of bytes r
// holds (-1 if unknown); name is used in errors.
func DecodeImages(r io.Reader, size int64, name string) (pixels []uint8, n int, err error) {
	data, dims, err := decodeIDX(r, size, imagesMagic, "images", func(dims []uint32) error {
		if dims[1] != Rows || dims[2] != Cols {
			return errors.Errorf("images are %dx%d, want %dx%d", dims[1], dims[2], Rows, Cols)
		}
		return nil
	})
	if err != nil {
		return nil, 0, errors.Wrapf(err, "reading %s", name)
	}
	return data, int(dims[0]), nil
}

// DecodeLabels is ReadLabels over a reader. size is the number of bytes r
// holds (-1 if unknown); name is used in errors.
func DecodeLabels(r io.Reader, size int64, name string) ([]uint8, error) {
	data, _, err := decodeIDX(r, size, labelsMagic, "labels", nil)
	if err != nil {
		return nil, errors.Wrapf(err, "reading %s", name)
	}
	for i, l := range data {
		if l >= Classes {
			return nil, errors.Errorf("reading %s: label %d is %d, want 0..%d", name, i, l, Classes-1)
		}
	}
	return data, nil
}

// decodeIDX reads one IDX file of unsigned bytes with the given magic
// number, checks its dimensions with checkDims (which may be nil), and
// returns its data and dimensions; noun names the items in errors. The data
// size the header claims is checked against the input size before anything
// that large is allocated; when the size is not known (gzip, or size < 0) the
// buffer grows only as data arrives.
func decodeIDX(r io.Reader, size int64, magic uint32, noun string, checkDims func([]uint32) error) ([]byte, []uint32, error) {
	r, gz, closeGzip, err := maybeGunzip(r)
	if err != nil {
		return nil, nil, err
	}
	defer closeGzip()
	dims, err := readIDXHeader(r, magic, checkDims)
	if err != nil {
		return nil, nil, err
	}
	need, item, err := dataSize(dims)
	if err != nil {
		return nil, nil, err
	}
	header := int64(4 + 4*len(dims))
	capHint := min(need, startCap)
	if !gz && size >= 0 {
		if header+need > size {
			return nil, nil, errors.Errorf("header claims %d %s (dimensions %v, %d bytes of data) but the file holds only %s (%d bytes after the %d-byte header)",
				dims[0], noun, dims, need, count(max(size-header, 0), item, noun), size-header, header)
		}
		if header+need < size {
			return nil, nil, errors.Errorf("%d trailing bytes after the %d %s the header declares", size-header-need, dims[0], noun)
		}
		// The file's size, from fstat of the descriptor being read, is evidence
		// that the bytes are there; the header alone is not.
		capHint = need
	}
	data, err := readUpTo(r, need, capHint)
	if err != nil {
		return nil, nil, err
	}
	if got := int64(len(data)); got < need {
		return nil, nil, errors.Errorf("header claims %d %s (dimensions %v, %d bytes of data) but the data holds only %s (%d bytes) and ends there",
			dims[0], noun, dims, need, count(got, item, noun), got)
	}
	// Reading on to the end also makes gzip verify its checksum.
	var one [1]byte
	switch k, err := io.ReadFull(r, one[:]); {
	case k > 0:
		return nil, nil, errors.Errorf("trailing data after the %d %s the header declares", dims[0], noun)
	case err != io.EOF && err != io.ErrUnexpectedEOF:
		return nil, nil, err
	}
	return data, dims, nil
}

// maybeGunzip returns a reader of r's bytes, decompressed if they start
// with gzip's magic, whether they were, and what closes the decompressor.
func maybeGunzip(r io.Reader) (io.Reader, bool, func(), error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1] {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false, nil, gzipError(err)
		}
		return gzipReader{zr}, true, func() { zr.Close() }, nil
	}
	return br, false, func() {}, nil
}

// readIDXHeader reads and checks the magic number and the dimensions.
func readIDXHeader(r io.Reader, magic uint32, checkDims func([]uint32) error) ([]uint32, error) {
	var word [4]byte
	if _, err := io.ReadFull(r, word[:]); err != nil {
		return nil, shortHeader(err)
	}
	got := binary.BigEndian.Uint32(word[:])
	if got>>8 != magic>>8 {
		return nil, errors.Errorf("bad magic number 0x%08x, want 0x%08x: not an IDX file of unsigned bytes", got, magic)
	}
	if got != magic {
		return nil, errors.Errorf("magic number 0x%08x declares %d dimensions, want %d (magic 0x%08x)", got, got&0xff, magic&0xff, magic)
	}
	dims := make([]uint32, magic&0xff)
	if err := binary.Read(r, binary.BigEndian, dims); err != nil {
		return nil, shortHeader(err)
	}
	if checkDims != nil {
		if err := checkDims(dims); err != nil {
			return nil, err
		}
	}
	return dims, nil
}

// dataSize returns the bytes of data the dimensions claim and the size of
// one item (an image or a label), refusing a product that overflows.
func dataSize(dims []uint32) (need, item int64, err error) {
	need = 1
	for _, d := range dims {
		if d != 0 && need > math.MaxInt64/int64(d) {
			return 0, 0, errors.Errorf("dimensions %v are too large", dims)
		}
		need *= int64(d)
	}
	if need > math.MaxInt {
		return 0, 0, errors.Errorf("header claims %d bytes of data (dimensions %v), too many for this platform", need, dims)
	}
	item = 1
	for _, d := range dims[1:] {
		item *= int64(d)
	}
	return need, item, nil
}

// count says how many items of item bytes n bytes hold: "5 images", or
// "5 images and 100 bytes of another" when they do not divide.
func count(n, item int64, noun string) string {
	if item <= 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	s := fmt.Sprintf("%d %s", n/item, noun)
	if rem := n % item; rem != 0 {
		s += fmt.Sprintf(" and %d bytes of another", rem)
	}
	return s
}

// readUpTo reads up to need bytes from r, starting with a buffer of capHint
// bytes and doubling it only as data actually arrives. A short read is not
// an error here; the caller compares the length.
func readUpTo(r io.Reader, need, capHint int64) ([]byte, error) {
	buf := make([]byte, 0, capHint)
	for int64(len(buf)) < need {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(need, max(2*int64(cap(buf)), startCap)))
			copy(grown, buf)
			buf = grown
		}
		k, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

func shortHeader(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("file too short for an IDX header")
	}
	return err
}

// gzipReader names the gzip layer in its errors, and calls a stream that
// stops early truncated rather than an unexpected EOF.
type gzipReader struct{ zr *gzip.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

func gzipError(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("gzip stream truncated")
	}
	return errors.Wrap(err, "corrupt gzip stream")
}
