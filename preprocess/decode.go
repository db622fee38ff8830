package preprocess

import (
	"bufio"
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// MaxPixels is the largest image, width times height, that DecodeFile decodes: 50
// megapixels, more than a phone camera takes, and a few hundred MB once decoded. The
// size is read from the file's header before any pixel is allocated.
const MaxPixels = 50_000_000

// decoders are the formats DecodeFile accepts, by the name image.DecodeConfig gives
// them, each decoded by the standard library's own decoder rather than by whatever
// image.Decode finds registered for the bytes.
var decoders = map[string]func(io.Reader) (image.Image, error){
	"png":  png.Decode,
	"jpeg": jpeg.Decode,
	"gif":  gif.Decode,
}

// accepted names the accepted formats in error messages.
const accepted = "only PNG, JPEG and GIF are accepted"

// File reads the image at path and prepares it with Digit.
func File(path string) ([]float32, error) {
	img, err := DecodeFile(path)
	if err != nil {
		return nil, err
	}
	x, err := Digit(img)
	if err != nil {
		return nil, errors.Wrapf(err, "preparing %s", path)
	}
	return x, nil
}

// DecodeFile decodes the PNG, JPEG or GIF image at path (the first frame of a GIF),
// upright as a person sees it: a JPEG whose EXIF orientation says it is stored
// rotated or mirrored comes back turned the right way, as a view of the decoded
// pixels (no copy is made). It refuses a path that is not a regular file (a
// directory, a FIFO, a device: "reading X: is a directory"), a file in any other
// format (TIFF by name, see the package doc), and an image whose header declares no
// pixels, more than MaxPixels, or a layout that would take more than MaxDecodedBytes
// to decode.
func DecodeFile(path string) (image.Image, error) {
	f, _, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decode(f, path, MaxPixels)
}

// tiffMagic are the two byte orders' starts of a TIFF file (TIFF 6.0, section 2).
var tiffMagic = []string{"II*\x00", "MM\x00*"}

// decode decodes an image from r, named name in errors, after checking its format and
// the size its header declares against maxPixels, and turns a JPEG upright by its
// EXIF orientation.
func decode(r io.Reader, name string, maxPixels int64) (image.Image, error) {
	br := bufio.NewReader(r)
	// TIFF is refused by its magic number before any registered decoder sees it, so
	// that the answer is the same whether or not a dependency registered one.
	if magic, _ := br.Peek(4); len(magic) == 4 {
		for _, m := range tiffMagic {
			if string(magic) == m {
				return nil, errors.Errorf("decoding %s: a TIFF image, not accepted: %s", name, accepted)
			}
		}
	}
	// DecodeConfig reads only the header; keep what it consumed to decode from the
	// start, and to find a JPEG's EXIF segment, which comes before the frame header.
	var head bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(br, &head))
	if err == image.ErrFormat {
		return nil, errors.Errorf("decoding %s: not a PNG, JPEG or GIF image", name)
	}
	decodeAll, ok := decoders[format]
	if err == nil && !ok {
		// Some dependency registered this format with package image.
		return nil, errors.Errorf("decoding %s: a %s image, not accepted: %s", name, strings.ToUpper(format), accepted)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "decoding %s", name)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, errors.Errorf("decoding %s: the %s image is %dx%d, without pixels", name, format, cfg.Width, cfg.Height)
	}
	if n := int64(cfg.Width) * int64(cfg.Height); n > maxPixels {
		return nil, errors.Errorf("decoding %s: the %s image is %dx%d, %d pixels, more than the %d allowed", name, format, cfg.Width, cfg.Height, n, maxPixels)
	}
	if n := decodedBytes(format, cfg, head.Bytes()); n > MaxDecodedBytes {
		return nil, errors.Errorf("decoding %s: the %s image is %dx%d and would take %d MB to decode, more than the %d MB allowed",
			name, format, cfg.Width, cfg.Height, n>>20, MaxDecodedBytes>>20)
	}
	orientation := 1
	if format == "jpeg" {
		orientation = jpegOrientation(head.Bytes())
	}
	img, err := decodeAll(io.MultiReader(&head, br))
	if err != nil {
		return nil, errors.Wrapf(err, "decoding %s", name)
	}
	return upright(img, orientation), nil
}
