package mnist

import (
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// Sizes of MNIST.
const (
	Rows    = 28          // image height in pixels
	Cols    = 28          // image width in pixels
	Pixels  = Rows * Cols // pixels per image (784)
	Classes = 10          // digits 0..9
)

// Normalization of pixel values p/255 to zero mean and unit variance over
// the training set, as torchvision's MNIST examples do
// (transforms.Normalize((0.1307,), (0.3081,))).
const (
	Mean = 0.1307
	Std  = 0.3081
)

// Dataset is a set of MNIST examples held as raw bytes.
type Dataset struct {
	// Images holds Len()*Pixels bytes, image after image, each row-major;
	// 0 is background, 255 ink.
	Images []uint8
	// Labels holds one digit 0..9 per image.
	Labels []uint8
}

// Len returns the number of examples.
func (d *Dataset) Len() int { return len(d.Labels) }

// Splits of MNIST, as the file names spell them.
const (
	Train = "train" // 60,000 examples
	Test  = "t10k"  // 10,000 examples
)

// Load reads and validates the images and labels of split (Train or Test)
// from dir, where each file may be gzipped (name ending in .gz) or not:
// <split>-images-idx3-ubyte[.gz] and <split>-labels-idx1-ubyte[.gz].
func Load(dir, split string) (*Dataset, error) {
	if split != Train && split != Test {
		return nil, errors.Errorf("loading MNIST: unknown split %q, want %q or %q", split, Train, Test)
	}
	imagesPath, err := findFile(dir, split+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	labelsPath, err := findFile(dir, split+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	images, n, err := ReadImages(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if n != len(labels) {
		return nil, errors.Errorf("loading MNIST: %s holds %d images but %s holds %d labels",
			imagesPath, n, labelsPath, len(labels))
	}
	return &Dataset{Images: images, Labels: labels}, nil
}

// findFile returns the path of name or name.gz in dir, whichever is a regular
// file (the plain file first). When neither is, the error says why: missing, or
// there but not a file that can be read (a folder, a FIFO, no permission).
func findFile(dir, name string) (string, error) {
	p, err := lookFile(dir, name)
	if err != nil {
		return "", errors.Wrap(err, "loading MNIST")
	}
	if p == "" {
		return "", errors.Errorf("loading MNIST: neither %s nor %s.gz in %s", name, name, dir)
	}
	return p, nil
}

// lookFile is findFile's search: the path found, or "" and nil when neither name
// exists, or the first reason one that exists cannot be used.
func lookFile(dir, name string) (string, error) {
	var problem error
	for _, cand := range []string{name, name + ".gz"} {
		p := filepath.Join(dir, cand)
		_, err := fileio.StatRegular(p)
		switch {
		case err == nil:
			return p, nil
		case !os.IsNotExist(err) && problem == nil:
			problem = err
		}
	}
	return "", problem
}

// Split returns the first Len()-n examples as rest and the last n as last,
// to hold out a validation set (for example the last 5,000 of the 60,000
// training images). n = 0 gives last == nil. Both share d's memory.
func (d *Dataset) Split(n int) (rest, last *Dataset, err error) {
	if n < 0 || n >= d.Len() {
		return nil, nil, errors.Errorf("splitting %d examples off a dataset of %d: want 0 <= n < %d", n, d.Len(), d.Len())
	}
	cut := d.Len() - n
	if n == 0 {
		return d.Subset(0, cut), nil, nil
	}
	return d.Subset(0, cut), d.Subset(cut, d.Len()), nil
}

// Subset returns examples lo..hi-1, sharing d's memory. Appending to the
// result does not write into d. It panics if 0 <= lo <= hi <= Len() does
// not hold, like slicing.
func (d *Dataset) Subset(lo, hi int) *Dataset {
	return &Dataset{
		Images: d.Images[lo*Pixels : hi*Pixels : hi*Pixels],
		Labels: d.Labels[lo:hi:hi],
	}
}

// Normalized writes image i into dst[:Pixels] as (p/255 - Mean) / Std, the
// same values Batches.Fill gives. It panics if i is out of range or dst is
// shorter than Pixels.
func (d *Dataset) Normalized(i int, dst []float32) {
	normalize(dst[:Pixels], d.Images[i*Pixels:(i+1)*Pixels], &norm32)
}
