package mnist

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// writeSplit writes <split>-images/labels files for n images into dir.
func writeSplit(t testing.TB, dir, split string, n int, gzipped bool) {
	t.Helper()
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	images, lab, suffix := imagesFile(n), labelsFile(labels...), ""
	if gzipped {
		images, lab, suffix = gz(images), gz(lab), ".gz"
	}
	writeFile(t, dir, split+"-images-idx3-ubyte"+suffix, images)
	writeFile(t, dir, split+"-labels-idx1-ubyte"+suffix, lab)
}

func TestLoad(t *testing.T) {
	for _, gzipped := range []bool{false, true} {
		dir := t.TempDir()
		writeSplit(t, dir, "train", 5, gzipped)
		writeSplit(t, dir, "t10k", 3, gzipped)
		for split, n := range map[string]int{"train": 5, "t10k": 3} {
			d, err := Load(dir, split)
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != n || !bytes.Equal(d.Images, testPixels(n)) || d.Labels[n-1] != byte((n-1)%10) {
				t.Errorf("gzipped=%v %s: got %d examples, want %d with the written content", gzipped, split, d.Len(), n)
			}
		}
	}
}

func TestLoadBad(t *testing.T) {
	dir := t.TempDir()
	images := writeFile(t, dir, "train-images-idx3-ubyte", imagesFile(5))
	labels := writeFile(t, dir, "train-labels-idx1-ubyte.gz", gz(labelsFile(1, 2, 3, 4)))
	_, err := Load(dir, "train")
	for _, want := range []string{images, labels, "5 images", "4 labels"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("count mismatch: got %v, want it to contain %q", err, want)
		}
	}

	if _, err := Load(dir, "t10k"); err == nil || !strings.Contains(err.Error(), "neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz in "+dir) {
		t.Errorf("missing files: got %v", err)
	}
	if _, err := Load(dir, "validation"); err == nil || !strings.Contains(err.Error(), `unknown split "validation"`) {
		t.Errorf("bad split: got %v", err)
	}
	writeFile(t, dir, "t10k-images-idx3-ubyte", imagesFile(2))
	bad := writeFile(t, dir, "t10k-labels-idx1-ubyte", labelsFile(1, 12))
	if _, err := Load(dir, "t10k"); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad label: got %v, want an error naming %s", err, filepath.Base(bad))
	}
}

func testDataset(n int) *Dataset {
	d := &Dataset{Images: testPixels(n), Labels: make([]uint8, n)}
	for i := range d.Labels {
		d.Labels[i] = uint8(i % 10)
	}
	return d
}

func TestSplit(t *testing.T) {
	d := testDataset(7)
	rest, last, err := d.Split(2)
	if err != nil {
		t.Fatal(err)
	}
	if rest.Len() != 5 || last.Len() != 2 {
		t.Fatalf("got %d + %d, want 5 + 2", rest.Len(), last.Len())
	}
	if !bytes.Equal(rest.Images, d.Images[:5*784]) || !bytes.Equal(last.Images, d.Images[5*784:]) ||
		!bytes.Equal(last.Labels, []byte{5, 6}) {
		t.Error("split content differs from the original's")
	}

	rest, last, err = d.Split(0)
	if err != nil || last != nil || rest.Len() != 7 {
		t.Errorf("Split(0) = %v, %v, %v; want all, nil, nil", rest, last, err)
	}
	for _, n := range []int{-1, 7, 8} {
		if _, _, err := d.Split(n); err == nil {
			t.Errorf("Split(%d) of 7: no error", n)
		}
	}
}

func TestSubsetDoesNotAliasOnAppend(t *testing.T) {
	d := testDataset(4)
	s := d.Subset(1, 2)
	if s.Len() != 1 || s.Labels[0] != 1 || s.Images[0] != d.Images[784] {
		t.Fatalf("Subset(1, 2) holds the wrong example")
	}
	s.Labels = append(s.Labels, 9)
	if d.Labels[2] != 2 {
		t.Error("appending to a subset overwrote the dataset")
	}
}

func TestNormalized(t *testing.T) {
	d := testDataset(3)
	dst := make([]float32, 784)
	d.Normalized(2, dst)
	for k, p := range d.Images[2*784 : 3*784] {
		if want := float32((float64(p)/255 - torchMean) / torchStd); dst[k] != want {
			t.Fatalf("pixel %d (%d): got %v, want %v", k, p, dst[k], want)
		}
	}
}
