package tabular_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tapestry-ml/tapestry/datasets/tabular"
)

func Example() {
	dir, err := os.MkdirTemp("", "tabular")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pets.csv")
	csv := "weight,colour,kind\n4,black,cat\n30,brown,dog\n5,brown,cat\n25,black,dog\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		fmt.Println(err)
		return
	}

	t, err := tabular.Read(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	rows := []int{0, 1, 2, 3} // all rows; tabular.SplitRows holds some out
	enc, err := tabular.Fit(t, rows, tabular.Config{Target: "kind"})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := enc.Encode(t, rows) // features and labels, for d.Batches
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := enc.EncodeRow(map[string]string{"weight": "16", "colour": "brown"})
	if err != nil {
		fmt.Println(err)
		return
	}
	class, err := enc.Class(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	meta, err := json.Marshal(enc) // saved with the model
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Len(), "examples of", enc.Features())
	fmt.Println("a brown pet of 16 kg:", x)
	fmt.Println(enc.Target().Task, enc.Target().Classes, "label 1 is", class)
	fmt.Println(string(meta))
	// Output:
	// 4 examples of [weight colour=black colour=brown]
	// a brown pet of 16 kg: [0 0 1]
	// classify [cat dog] label 1 is dog
	// {"format":1,"columns":[{"name":"weight","kind":"numeric","mean":16,"std":11.640446726822816},{"name":"colour","kind":"categorical","categories":["black","brown"]}],"target":{"name":"kind","task":"classify","classes":["cat","dog"]}}
}
