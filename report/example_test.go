package report_test

import (
	"fmt"
	"log"

	"github.com/tapestry-ml/tapestry/report"
)

func ExampleNewConfusion() {
	labels := []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}
	predicted := []int{0, 0, 0, 1, 1, 1, 2, 1, 2, 2}
	c, err := report.NewConfusion(3, labels, predicted)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(c.Text())
	// Output:
	// accuracy: 70.00% (7/10)
	//
	// class  precision  recall  support
	//     0    100.00%  75.00%        4
	//     1     50.00%  66.67%        3
	//     2     66.67%  66.67%        3
	//
	// true \ pred  0  1  2
	//           0  3  1  0
	//           1  0  2  1
	//           2  0  1  2
}
