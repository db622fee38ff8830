// Package preprocess implements the preparation of a user's picture of a handwritten
// digit as an MNIST input, the way the MNIST digits themselves were prepared (LeCun,
// Bottou, Bengio and Haffner, 1998; http://yann.lecun.com/exdb/mnist/): the digit is
// cropped, scaled with antialiasing to fit a 20x20 box keeping its aspect ratio, and
// placed in a 28x28 field so that its centre of mass is at the field's centre.
//
//	x, err := preprocess.File("seven.png") // 784 float32 in [0, 1], ink = 1, row-major
//
// File reads PNG, JPEG and GIF, refusing before decoding any image larger than
// MaxPixels (a decompression bomb declares a huge size in a small file). Digit works on
// any image.Image: dark ink on a light background or light on dark, in colour or not.
package preprocess
