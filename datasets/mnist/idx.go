package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned
// byte), then the number of dimensions. See http://yann.lecun.com/exdb/mnist/.
const (
	imagesMagic = 0x00000803 // uint8, 3 dimensions: count, rows, cols
	labelsMagic = 0x00000801 // uint8, 1 dimension: count
)

// MaxBytes is the most data, in bytes (the product of the header's
// dimensions), that an IDX file read here may hold: 1 GiB, over twenty times
// MNIST's largest file (60,000 images, 47 MB) and above EMNIST's (about
// 700,000 images, 550 MB). A header that claims more is an error naming the
// file, the count claimed and this limit, before any of the data is read or
// any memory is set aside for it: a 3 MB gzip can honestly hold 4,000,000
// images (3.1 GB), and reading it would run a machine out of memory. To read
// bigger IDX data, raise MaxBytes before calling ReadImages, ReadLabels, Load
// or the Decode functions (not while one runs).
var MaxBytes int64 = 1 << 30

// startCap is the most a buffer may start with when the real data size is not
// known beforehand (gzip, or a reader of unknown size): the buffer then about
// doubles as data actually arrives, so a lying header cannot make us allocate,
// and each buffer is at most twice the bytes that arrived before it; all of
// them sum to under four times the bytes read. The sizes are planned down
// from the header's size by halving (need, need/2, need/4, … rounded up), so
// the last buffer is exactly the data and the data in the one before it is
// half: growing to the end holds at most 1.5 times the data at once, not the
// nearly 2 + 1 that doubling from startCap up past a power of two did.
//
// The compressed size is no guide: deflate can expand its input 1032 times (zlib
// FAQ), so a first guess of compressed size times that ratio let a 10 MB gzip
// whose header claims 2^31 images allocate 10 GB before a byte was decompressed.
const startCap = 64 << 10

// twoPassFrom is the data size from which a gzip stream that can be read
// again (an io.ReadSeeker: a file) is decompressed twice: once to count its
// bytes (and check its end and checksum) into a small buffer, then, the data
// being there, into one buffer of exactly its size. That costs one more
// decompression (about 0.3 s per 50 MB) but holds 1.0 times the data, where
// growing holds up to 1.5 times: above this size the memory matters more.
// MNIST's own files (47 MB at most) are read in one pass. A variable so that
// tests can lower it.
var twoPassFrom int64 = 64 << 20

// gzipMagic opens every gzip stream (RFC 1952, section 2.3.1).
var gzipMagic = [2]byte{0x1f, 0x8b}

// ReadImages reads an IDX image file, raw or gzipped (told apart by the
// gzip magic bytes, not the name). It returns n images of Rows×Cols pixels,
// row-major, one byte each (0 = background, 255 = ink).
//
// The file must be a regular file (fileio.Open): a directory, FIFO or device
// is refused by its type. Memory follows the data actually read, never the
// count the header claims; a header that claims more than the data holds is an
// error naming the file, the count claimed and the count there, and one that
// claims more than MaxBytes is refused before anything is read.
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
// size the header claims is checked against the input size (when known) and
// MaxBytes before anything that large is allocated; when the size is not
// known (gzip, or size < 0) the buffer grows only as data arrives, or, for a
// large gzip that can be read again, the data is counted first (twoPassFrom).
func decodeIDX(r io.Reader, size int64, magic uint32, noun string, checkDims func([]uint32) error) ([]byte, []uint32, error) {
	// Where r starts, if it can be read again from there.
	rs, _ := r.(io.ReadSeeker)
	var start int64
	if rs != nil {
		var err error
		if start, err = rs.Seek(0, io.SeekCurrent); err != nil {
			rs = nil
		}
	}
	zr, gz, closeGzip, err := maybeGunzip(r)
	if err != nil {
		return nil, nil, err
	}
	defer func() { closeGzip() }()
	dims, err := readIDXHeader(zr, magic, checkDims)
	if err != nil {
		return nil, nil, err
	}
	need, item, err := dataSize(dims)
	if err != nil {
		return nil, nil, err
	}
	header := int64(4 + 4*len(dims))
	capHint := firstCap(need)
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
	if need > MaxBytes {
		return nil, nil, errors.Errorf("header claims %d %s (dimensions %v, %d bytes of data), more than the %d bytes (mnist.MaxBytes) an IDX file may hold",
			dims[0], noun, dims, need, MaxBytes)
	}
	if gz && rs != nil && need >= twoPassFrom {
		// First pass: are the bytes there, and does the stream end with them?
		got, err := io.CopyN(io.Discard, zr, need)
		if err != nil && err != io.EOF {
			return nil, nil, err
		}
		if err := checkData(zr, dims, noun, need, item, got); err != nil {
			return nil, nil, err
		}
		// Second pass, from the start again, into one buffer of the data's size.
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, nil, errors.Wrap(err, "going back to read the data")
		}
		zr2, gz2, close2, err := maybeGunzip(rs)
		if err != nil {
			return nil, nil, err
		}
		closeGzip()
		zr, closeGzip = zr2, close2
		if !gz2 {
			return nil, nil, errors.New("the file changed while it was read: gzip, then not")
		}
		again, err := readIDXHeader(zr, magic, checkDims)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Equal(again, dims) {
			return nil, nil, errors.Errorf("the file changed while it was read: dimensions %v, then %v", dims, again)
		}
		capHint = need
	}
	data, err := readUpTo(zr, need, capHint)
	if err != nil {
		return nil, nil, err
	}
	if err := checkData(zr, dims, noun, need, item, int64(len(data))); err != nil {
		return nil, nil, err
	}
	return data, dims, nil
}

// checkData is an error if got, the bytes of data read from r, is short of
// need, the bytes the header claims, or if r holds more after them. Reading on
// to the end also makes gzip verify its checksum.
func checkData(r io.Reader, dims []uint32, noun string, need, item, got int64) error {
	if got < need {
		return errors.Errorf("header claims %d %s (dimensions %v, %d bytes of data) but the data holds only %s (%d bytes) and ends there",
			dims[0], noun, dims, need, count(got, item, noun), got)
	}
	var one [1]byte
	switch k, err := io.ReadFull(r, one[:]); {
	case k > 0:
		return errors.Errorf("trailing data after the %d %s the header declares", dims[0], noun)
	case err != io.EOF && err != io.ErrUnexpectedEOF:
		return err
	}
	return nil
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
// bytes and growing it only as data actually arrives, to the sizes nextCap
// plans. A short read is not an error here; the caller compares the length.
func readUpTo(r io.Reader, need, capHint int64) ([]byte, error) {
	buf := make([]byte, 0, capHint)
	for int64(len(buf)) < need {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), nextCap(int64(cap(buf)), need))
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

// firstCap is the first buffer for need bytes of data not yet known to be
// there: need halved (rounded up) until it is at most startCap.
func firstCap(need int64) int64 {
	c := need
	for c > startCap {
		c = (c + 1) / 2
	}
	return c
}

// nextCap is the buffer that follows a full one of cur bytes on the way to
// need: need halved (rounded up) until it is at most twice cur. From a
// firstCap each is the next of need, ⌈need/2⌉, ⌈need/4⌉, …, so the last is
// exactly need and the one before it about half.
func nextCap(cur, need int64) int64 {
	c := need
	for c > 2*cur && c > 1 {
		c = (c + 1) / 2
	}
	return max(c, cur+1)
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
