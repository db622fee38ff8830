package fileio_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

func ExampleWriteAtomic() {
	dir, err := os.MkdirTemp("", "atomic-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.json")

	err = fileio.WriteAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, `{"hidden":[512,512]}`)
		return err
	}, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Println(string(b))
	// Output: {"hidden":[512,512]}
}
