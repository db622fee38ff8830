// Package preprocess implements the preparation of a user's picture of a handwritten
// digit as an MNIST input, the way the MNIST digits themselves were prepared (LeCun,
// Bottou, Bengio and Haffner, 1998; http://yann.lecun.com/exdb/mnist/): the digit is
// cropped, scaled with antialiasing to fit a 20x20 box keeping its aspect ratio, and
// placed in a 28x28 field so that its centre of mass is at the field's centre.
//
//	x, err := preprocess.File("seven.png") // 784 float32 in [0, 1], ink = 1, row-major
//
// Digit works on any image.Image: dark ink on a light background or light on dark, in
// colour or not.
//
// # What File reads
//
// Every file is untrusted. File and DecodeFile accept PNG, JPEG and GIF (the first
// frame), told apart by their content, not their name, and decoded by the standard
// library's own decoders. They refuse:
//
//   - a path that is not a regular file, by its type and without blocking on it
//     (internal/fileio.Open): "reading x: is a directory", "reading x: is a named
//     pipe (FIFO), not a regular file";
//   - any other format, by name: "decoding x: a TIFF image, not accepted: only PNG,
//     JPEG and GIF are accepted";
//   - before a pixel is allocated, an image whose header declares no pixels, more than
//     MaxPixels, or a layout that would take more than MaxDecodedBytes to decode (a
//     decompression bomb declares a huge image in a small file).
//
// TIFF is refused on purpose, by its magic number, even when some dependency has
// registered a TIFF decoder with package image (golang.org/x/image/tiff comes with
// package report, through gonum.org/v1/plot/vg/vgimg, into cmd/train and any program
// that links report, and image.Decode would use it silently). What tapestry accepts must not depend on what happens to be linked in;
// no phone or drawing program saves a digit as TIFF; and accepting it well would mean
// TIFF's own orientation tag and a decoder for tiled, LZW and CCITT variants, all more
// surface for untrusted input, for no user who needs it.
//
// A JPEG is turned upright by its EXIF orientation (tag 0x0112, all eight values), as
// a person sees the photo: a phone held sideways stores the pixels sideways and says so
// in EXIF, and the digit would otherwise be classified lying on its side. A damaged or
// absent EXIF segment means the pixels are shown as stored.
package preprocess
