package preprocess_test

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/tapestry-ml/tapestry/preprocess"
)

func ExampleDigit() {
	// A 10x40 black bar on a 60x60 white page: scaled by 20/40 to 5x20, centred.
	img := image.NewGray(image.Rect(0, 0, 60, 60))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(25, 10, 35, 50), image.Black, image.Point{}, draw.Src)

	x, err := preprocess.Digit(img)
	if err != nil {
		log.Fatal(err)
	}
	for y := 3; y < 26; y += 2 { // every other row, around the bar
		for px := 9; px < 20; px++ {
			fmt.Print(map[bool]string{true: "#", false: "."}[x[y*preprocess.Side+px] > 0.5])
		}
		fmt.Println()
	}
	// Output:
	// ...........
	// ...#####...
	// ...#####...
	// ...#####...
	// ...#####...
	// ...#####...
	// ...#####...
	// ...#####...
	// ...#####...
	// ...#####...
	// ...#####...
	// ...........
}

func ExampleFile() {
	dir, err := os.MkdirTemp("", "preprocess-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "upload.png")

	// A light "L" on a dark background, saved as PNG: 800 pixels of ink in a 30x60
	// box, which scales by 20/60, so about 800/9 = 89 pixels' worth of ink remain.
	img := image.NewRGBA(image.Rect(0, 0, 80, 80))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{20, 20, 40, 255}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(20, 10, 30, 70), image.White, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(20, 60, 50, 70), image.White, image.Point{}, draw.Src)
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	f.Close()

	x, err := preprocess.File(path)
	if err != nil {
		log.Fatal(err)
	}
	var ink float32
	for _, v := range x {
		ink += v
	}
	fmt.Printf("%d values, total ink %.0f\n", len(x), ink)
	// Output: 784 values, total ink 89
}
