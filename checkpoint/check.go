package checkpoint

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
)

// MaxActivations bounds what one example costs a program built from an
// architecture read from a file: the values of its inputs and of every
// layer's output (Size.Activations) plus each convolution's scratch buffer
// (Size.Workspace), summed. A file's parameters are bounded by the file
// itself, since they must be its tensors, but activations are not: a
// convolution of ten parameters over a [1, 2^15, 2^15] input outputs a
// billion values. 2^26 values are 256 MiB of float32: over a hundred times
// what tapestry's presets need (the cnn preset about 2^18.4, the mlp preset
// under 2^12), and little enough that a command that runs one example at a
// time (cmd/predict) stays well within a gigabyte. A program of batch B
// holds B·Activations plus Workspace for each of up to B parts of the batch
// run at once, so a caller that chooses B bounds that itself (cmd/train
// -eval does).
//
// Every integer in a layer's configuration is a size, a kernel, a stride or
// a padding, and none can exceed MaxActivations without some activation
// exceeding it too; a larger one is refused before any arithmetic is done
// with it, which keeps every sum and product a layer's OutShape computes far
// from overflowing.
const MaxActivations = 1 << 26

// maxParamValues bounds the values of one parameter that Measure accepts,
// so that its products cannot overflow: 2^40 float32 values are 4 TiB, far
// past any file. Check then holds each parameter to its tensor in the file.
const maxParamValues = 1 << 40

// Size is what an architecture costs, worked out from its declaration alone.
type Size struct {
	// Params is the number of values in every parameter and buffer.
	Params int
	// Activations is the number of values one example's forward pass
	// holds: its inputs and every layer's output.
	Activations int
	// Workspace is the scratch a convolution needs beside its output, per
	// part of a batch run at once (ops.Conv2D's im2col columns or the
	// shifted-window form's wide buffer, whichever is larger, summed over
	// the convolutions): at most one part per example, and per worker.
	Workspace int
}

// Measure range-checks an architecture and returns its Size without
// allocating in proportion to anything it declares. Every number in every
// layer and in the loss is checked first (integers within ±MaxActivations,
// floats finite), then the shapes are followed from the inputs through
// every layer, each one's output checked (every dimension at least 1, the
// total within MaxActivations, products computed so that they cannot
// overflow) before the next layer sees it. Only then is the architecture
// validated as graph.NewModel would. Errors name the field: "net.Layers[2].Out
// is 4611686018427387904, …".
//
// A layer type of your own is held to the same bounds: its integers, its
// output and its parameters; its OutShape is trusted not to overflow for
// inputs within them.
func Measure(arch graph.Arch) (Size, error) {
	if arch.Net == nil {
		return Size{}, errors.New("the architecture has no network")
	}
	if err := checkNumbers(reflect.ValueOf(arch.Net), "net"); err != nil {
		return Size{}, err
	}
	if arch.Loss != nil {
		if err := checkNumbers(reflect.ValueOf(arch.Loss), "loss"); err != nil {
			return Size{}, err
		}
	}
	ins := arch.Inputs
	if len(ins) == 0 {
		ins = []graph.Input{{Name: "x", Shape: arch.InShape}}
	}
	w := &walker{}
	shapes := make([][]int, len(ins))
	for k, in := range ins {
		where := fmt.Sprintf("inputs[%d].shape", k)
		if len(in.Shape) == 0 {
			return Size{}, errors.Errorf("%s is empty: an input needs a shape", where)
		}
		if err := w.add(in.Shape, where); err != nil {
			return Size{}, err
		}
		shapes[k] = in.Shape
	}
	var err error
	if len(shapes) == 1 {
		_, err = w.layer(arch.Net, shapes[0], "net")
	} else {
		_, err = w.multi(arch.Net, shapes, "net")
	}
	if err != nil {
		return Size{}, err
	}
	// The arithmetic is safe now: let graph judge what fits what.
	if err := arch.Validate(); err != nil {
		return Size{}, err
	}
	params := 0
	for _, s := range arch.Net.Params() {
		n, ok := volume(s.Shape, maxParamValues)
		if !ok || len(s.Shape) == 0 {
			return Size{}, errors.Errorf("parameter %s: shape %s is empty, has a dimension < 1 or more than 2^40 values", quote(s.Name), shortShape(s.Shape))
		}
		params += n
	}
	return Size{Params: params, Activations: w.acts, Workspace: w.work}, nil
}

// walker follows the shapes through a network, counting activations and
// workspace.
type walker struct{ acts, work int }

// add counts the values of shape as activations.
func (w *walker) add(shape []int, where string) error { return w.count(shape, where, &w.acts) }

// count adds the values of shape to *to, refusing a dimension < 1 or a
// total past MaxActivations.
func (w *walker) count(shape []int, where string, to *int) error {
	n, ok := volume(shape, MaxActivations)
	if !ok {
		return errors.Errorf("%s: shape %s has a dimension < 1 or more than %d values", where, shortShape(shape), MaxActivations)
	}
	if *to += n; w.acts+w.work > MaxActivations {
		return errors.Errorf("%s: one example's forward pass would hold more than %d values (2^26), the most an architecture from a file may ask for", where, MaxActivations)
	}
	return nil
}

// layer follows one layer of one input: the layers it holds first, each
// checked, then its own output. It returns that output's shape.
func (w *walker) layer(l graph.Layer, in []int, where string) ([]int, error) {
	var err error
	switch v := l.(type) {
	case nil:
		return nil, errors.Errorf("%s: no layer", where)
	case graph.Sequential:
		// A Sequential's output is its last layer's, counted there.
		shape := in
		for i, c := range v.Layers {
			if shape, err = w.layer(c, shape, fmt.Sprintf("%s.Layers[%d]", where, i)); err != nil {
				return nil, err
			}
		}
		return shape, nil
	case graph.Residual:
		err = w.children(in, where, []graph.Layer{v.Body, v.Shortcut}, ".Body", ".Shortcut")
	case graph.Concat:
		err = w.children(in, where, v.Branches, ".Branches")
	case graph.Merge:
		err = w.children(in, where, v.Branches, ".Branches")
	}
	if err != nil {
		return nil, err
	}
	out, err := l.OutShape(in)
	if err != nil {
		return nil, errors.Wrap(err, where)
	}
	if err := w.add(out, where+" output"); err != nil {
		return nil, err
	}
	if c, ok := l.(graph.Conv2D); ok && len(out) == 3 && len(in) == 3 {
		// ops.Conv2D unfolds the input into [In·Kh·Kw, H'·W'] columns, or
		// in its shifted-window form accumulates into [Out, under H·W].
		scratch := []int{c.In, c.Kernel[0], c.Kernel[1], out[1], out[2]}
		if a, b := prodSmall(scratch), prodSmall([]int{c.Out, in[1], in[2]}); b > a {
			scratch = []int{c.Out, in[1], in[2]}
		}
		if err := w.count(scratch, where+" workspace", &w.work); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// prodSmall is a product for comparisons only, saturating at
// MaxActivations+1 so that it cannot overflow.
func prodSmall(s []int) int {
	n, ok := volume(s, MaxActivations)
	if !ok {
		return MaxActivations + 1
	}
	return n
}

// children follows each layer of ls (nil ones skipped: a Residual's identity
// shortcut) on the same input. A single name is indexed; several name each
// layer in turn.
func (w *walker) children(in []int, where string, ls []graph.Layer, names ...string) error {
	for i, c := range ls {
		if c == nil {
			continue
		}
		name := where + names[0] + "[" + strconv.Itoa(i) + "]"
		if len(names) > 1 {
			name = where + names[i]
		}
		if _, err := w.layer(c, in, name); err != nil {
			return err
		}
	}
	return nil
}

// multi follows a network of several inputs: a Merge (branch k on input k),
// a Sequential that starts with one, or a MultiLayer of your own.
func (w *walker) multi(l graph.Layer, ins [][]int, where string) ([]int, error) {
	switch v := l.(type) {
	case graph.Merge:
		if len(v.Branches) != len(ins) {
			return nil, errors.Errorf("%s: %d branches for %d inputs", where, len(v.Branches), len(ins))
		}
		for k, b := range v.Branches {
			if _, err := w.layer(b, ins[k], fmt.Sprintf("%s.Branches[%d]", where, k)); err != nil {
				return nil, err
			}
		}
	case graph.Sequential:
		if len(v.Layers) == 0 {
			return nil, errors.Errorf("%s: a network of %d inputs with no layers", where, len(ins))
		}
		shape, err := w.multi(v.Layers[0], ins, where+".Layers[0]")
		for i := 1; err == nil && i < len(v.Layers); i++ {
			shape, err = w.layer(v.Layers[i], shape, fmt.Sprintf("%s.Layers[%d]", where, i))
		}
		return shape, err
	}
	ml, ok := l.(graph.MultiLayer)
	if !ok {
		return nil, errors.Errorf("%s: a network of %d inputs needs a first layer that takes several (a Merge), not %T", where, len(ins), l)
	}
	out, err := ml.OutShapeN(ins)
	if err != nil {
		return nil, errors.Wrap(err, where)
	}
	return out, w.add(out, where+" output")
}

// volume returns the product of shape's dimensions, and false if one is < 1
// or the product would pass limit. It stops before any multiplication that
// could overflow.
func volume(shape []int, limit int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 1 || d > limit/n {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// checkNumbers checks every number v holds, through structs, slices, arrays
// and the layers it holds: integers within ±MaxActivations, floats finite.
// where names v as a path of Go field names ("net.Layers[2].Kernel[0]").
func checkNumbers(v reflect.Value, where string) error {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return checkNumbers(v.Elem(), where)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if err := checkNumbers(v.Field(i), where+"."+t.Field(i).Name); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := checkNumbers(v.Index(i), where+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := v.Int(); n > MaxActivations || n < -MaxActivations {
			return errors.Errorf("%s is %d, beyond the ±%d (2^26) any size, kernel, stride or padding may be", where, n, MaxActivations)
		}
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.Errorf("%s is %v, not a finite number", where, f)
		}
	}
	return nil
}

// Check verifies that arch is the architecture of the checkpoint's tensors,
// before anything is built from it, and returns its Size:
//
//   - Measure's bounds hold;
//   - every parameter and buffer arch declares is a tensor of the file with
//     the declared shape and as many values (the safetensors reader has
//     matched each tensor's bytes to its shape and dtype), and the file
//     holds no parameter arch does not declare;
//   - for a file of the first format, its output has arch.classes values
//     and its input the shape arch.in_shape;
//   - every optimizer tensor is named "<optimizer>.<slot>/<parameter>" for a
//     trainable parameter and has that parameter's size, and every extra
//     tensor named "<something>/<parameter>" (a callback's copy of the
//     weights) has that parameter's shape;
//   - every parameter, optimizer and such extra value is finite: training
//     stops at the first non-finite gradient, so no checkpoint it writes
//     holds one.
//
// Errors name the metadata field or the tensor, any name from the file cut
// short. Whether the optimizer's state is complete depends on the optimizer:
// train.Trainer.Restore checks that.
func (c *Checkpoint) Check(arch graph.Arch) (Size, error) {
	field := metaSpec
	if c.Kind != "" {
		field = metaConfig
	}
	size, err := Measure(arch)
	if err != nil {
		return size, errors.Wrapf(err, "metadata field %s", field)
	}
	if c.Kind != "" {
		if err := c.checkV1(arch); err != nil {
			return size, err
		}
	}
	declared := map[string]graph.ParamSpec{}
	for _, s := range arch.Net.Params() {
		if err := c.checkParam(s, declared); err != nil {
			return size, err
		}
		declared[s.Name] = s
	}
	for _, name := range sortedKeys(c.Params) {
		if _, ok := declared[name]; !ok {
			return size, errors.Errorf("tensor %s is not a parameter of the architecture in %s", quote(name), field)
		}
	}
	if err := c.checkOptimizer(declared); err != nil {
		return size, err
	}
	for _, name := range sortedKeys(c.Extra) {
		_, param, ok := strings.Cut(name, "/")
		if s, shadow := declared[param]; ok && shadow {
			e := c.Extra[name]
			if !sameInts(e.Shape, s.Shape) || len(e.Data) != len(c.Params[param].Data) {
				return size, errors.Errorf("tensor %s has shape %s, the parameter %s it copies %s", quote(extraPrefix+name), shortShape(e.Shape), quote(param), shortShape(s.Shape))
			}
			if err := finite(extraPrefix+name, e.Data); err != nil {
				return size, err
			}
		}
	}
	return size, nil
}

// checkParam holds one declared parameter to the file's tensor of its name.
func (c *Checkpoint) checkParam(s graph.ParamSpec, declared map[string]graph.ParamSpec) error {
	if s.Name == "" {
		return errors.New("the architecture declares a parameter with no name")
	}
	if _, dup := declared[s.Name]; dup {
		return errors.Errorf("the architecture declares parameter %s twice", quote(s.Name))
	}
	p, ok := c.Params[s.Name]
	if !ok {
		return errors.Errorf("the architecture declares parameter %s %s, and the file has no such tensor", quote(s.Name), shortShape(s.Shape))
	}
	if !sameInts(p.Shape, s.Shape) {
		return errors.Errorf("tensor %s has shape %s in the file, the architecture declares %s", quote(s.Name), shortShape(p.Shape), shortShape(s.Shape))
	}
	if n, _ := volume(p.Shape, maxParamValues); n != len(p.Data) {
		return errors.Errorf("tensor %s has %d values for shape %s", quote(s.Name), len(p.Data), shortShape(p.Shape))
	}
	return finite(s.Name, p.Data)
}

// checkOptimizer holds the optimizer's tensors to the parameters they are
// the state of.
func (c *Checkpoint) checkOptimizer(declared map[string]graph.ParamSpec) error {
	for _, name := range sortedKeys(c.OptState.Tensors) {
		d := c.OptState.Tensors[name]
		_, param, _ := strings.Cut(name, "/")
		s, ok := declared[param]
		if !ok || s.Kind != graph.Trainable {
			return errors.Errorf("tensor %s is not the optimizer state of a trainable parameter", quote(optPrefix+name))
		}
		if len(d) != len(c.Params[param].Data) {
			return errors.Errorf("tensor %s has %d values, its parameter %s %d", quote(optPrefix+name), len(d), quote(param), len(c.Params[param].Data))
		}
		if err := finite(optPrefix+name, d); err != nil {
			return err
		}
	}
	return nil
}

// checkV1 holds a first-format file's rebuilt architecture to the classes
// and input shape its metadata recorded beside the config.
func (c *Checkpoint) checkV1(arch graph.Arch) error {
	out, err := arch.OutShape()
	if err != nil {
		return errors.Wrapf(err, "metadata field %s", metaConfig)
	}
	if c.v1Classes != nil && (len(out) != 1 || out[0] != *c.v1Classes) {
		return errors.Errorf("metadata field %s says %d classes, the architecture in %s outputs %s", metaClasses, *c.v1Classes, metaConfig, shortShape(out))
	}
	if c.v1InShape != nil && (len(arch.Inputs) > 1 || !sameInts(c.v1InShape, inShape(arch))) {
		return errors.Errorf("metadata field %s says input %s, the architecture in %s takes %s", metaInShape, shortShape(c.v1InShape), metaConfig, shortShape(inShape(arch)))
	}
	return nil
}

// inShape is the shape of a network's one input.
func inShape(a graph.Arch) []int {
	if len(a.Inputs) == 1 {
		return a.Inputs[0].Shape
	}
	return a.InShape
}

// finite returns an error naming the tensor and the index of its first NaN
// or infinity.
func finite(name string, d []float64) error {
	for i, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.Errorf("tensor %s holds %v at index %d: a checkpoint's values are finite", quote(name), v, i)
		}
	}
	return nil
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shortShape writes a shape for an error message, cut after eight
// dimensions: a damaged file can declare a million.
func shortShape(s []int) string {
	const n = 8
	parts := make([]string, 0, n+1)
	for i, d := range s {
		if i == n {
			parts = append(parts, fmt.Sprintf("… (%d dimensions)", len(s)))
			break
		}
		parts = append(parts, strconv.Itoa(d))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
