package preprocess

import (
	"bytes"
	"image"
	_ "image/gif" // registers the GIF decoder with image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	"github.com/pkg/errors"
)

// MaxPixels is the largest image, width times height, that DecodeFile decodes: 50
// megapixels, more than a phone camera takes, and a few hundred MB once decoded. The
// size is read from the file's header before any pixel is allocated.
const MaxPixels = 50_000_000

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

// DecodeFile decodes the PNG, JPEG or GIF image at path (the first frame of a GIF).
// It refuses an image whose header declares no pixels or more than MaxPixels.
func DecodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "decoding image")
	}
	defer f.Close()
	return decode(f, path, MaxPixels)
}

// decode decodes an image from r, named name in errors, after checking the size its
// header declares against maxPixels.
func decode(r io.Reader, name string, maxPixels int64) (image.Image, error) {
	// DecodeConfig reads only the header; keep what it consumed to decode from the start.
	var head bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(r, &head))
	if err == image.ErrFormat {
		return nil, errors.Errorf("decoding %s: not a PNG, JPEG or GIF image", name)
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
	img, _, err := image.Decode(io.MultiReader(&head, r))
	if err != nil {
		return nil, errors.Wrapf(err, "decoding %s", name)
	}
	return img, nil
}
