package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// denseShapes is a fully connected layer's geometry and the shapes of its
// tensors, made once so that checking the values at every run allocates
// nothing.
type denseShapes struct {
	name           string
	batch, in, out int
	bias           bool
	// noInputGrad skips the input's gradient (the input is data).
	noInputGrad            bool
	xShape, wShape, yShape []int
	bShape                 []int
}

func newDenseShapes(name string, batch, in, out int, bias bool) denseShapes {
	return denseShapes{name: name, batch: batch, in: in, out: out, bias: bias,
		xShape: []int{batch, in}, wShape: []int{in, out}, yShape: []int{batch, out},
		bShape: []int{1, out}}
}

func (s *denseShapes) describe(what string) string {
	return fmt.Sprintf("Dense %s%s [%d,%d]·[%d,%d] bias=%t nodx=%t", s.name, what, s.batch, s.in, s.in, s.out, s.bias, s.noInputGrad)
}

// denseOp is a fully connected layer as one Gorgonia op, in place of
// Mul then BroadcastAdd, which allocate their outputs at every run and
// materialize a [batch, out] repeat of the bias (GORGONIA.md, "Where CPU
// time goes").
//
//	x: [B, In], w: [In, Out], bias: [1, Out] → y: [B, Out]
//
// The rows of y are first set to the bias, then one GEMM adds x·w to them
// (beta = 1), so the bias costs one pass over y and no temporary.
type denseOp[T opFloat] struct {
	denseShapes
	gemm gemmFunc[T]
	y    *tensor.Dense
}

func newDenseOp[T opFloat](name string, batch, in, out int, bias bool) *denseOp[T] {
	return &denseOp[T]{denseShapes: newDenseShapes(name, batch, in, out, bias), gemm: gemmFor[T]()}
}

// Arity implements gorgonia.Op.
func (op *denseOp[T]) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

// Type implements gorgonia.Op: Matrix a → Matrix a [→ Matrix a] → Matrix a.
func (op *denseOp[T]) Type() hm.Type {
	t2 := opTensorType(2)
	if op.bias {
		return hm.NewFnType(t2, t2, t2, t2)
	}
	return hm.NewFnType(t2, t2, t2)
}

// InferShape implements gorgonia.Op.
func (op *denseOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.yShape).Clone(), nil
}

// Do implements gorgonia.Op.
func (op *denseOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("%v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	x, err := opInput[T](op, inputs[0], "input", op.xShape...)
	if err != nil {
		return nil, err
	}
	w, err := opInput[T](op, inputs[1], "weight", op.wShape...)
	if err != nil {
		return nil, err
	}
	y := opOutput[T](&op.y, op.yShape...)
	var beta T
	if op.bias {
		b, err := opInput[T](op, inputs[2], "bias", op.bShape...)
		if err != nil {
			return nil, err
		}
		for r := 0; r < op.batch; r++ {
			copy(y[r*op.out:(r+1)*op.out], b)
		}
		beta = 1
	}
	op.gemm(blas.NoTrans, blas.NoTrans, op.batch, op.out, op.in, 1, x, op.in, w, op.out, beta, y, op.out)
	return op.y, nil
}

// ReturnsPtr implements gorgonia.Op.
func (op *denseOp[T]) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op.
func (op *denseOp[T]) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op.
func (op *denseOp[T]) OverwritesInput() int { return -1 }

// WriteHash implements gorgonia.Op. Every parameter is in the hash, since
// nodes whose ops hash alike merge (GORGONIA.md item 1).
func (op *denseOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }

// Hashcode implements gorgonia.Op.
func (op *denseOp[T]) Hashcode() uint32 { return opHash(op) }

func (op *denseOp[T]) String() string { return op.describe("") }

// DiffWRT implements gorgonia.SDOp.
func (op *denseOp[T]) DiffWRT(n int) []bool {
	return diffAllButData(n, op.noInputGrad)
}

// SymDiff implements gorgonia.SDOp: dx = dy·wᵀ, dw = xᵀ·dy, and dbias the
// column sums of dy.
func (op *denseOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("%v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	x, w := inputs[0], inputs[1]
	var dx *G.Node
	if !op.noInputGrad {
		var err error
		if dx, err = G.ApplyOp(&denseInputGradOp[T]{denseGrad: op.grad()}, w, grad); err != nil {
			return nil, errors.Wrapf(err, "%v: input gradient", op)
		}
	}
	dw, err := G.ApplyOp(&denseWeightGradOp[T]{denseGrad: op.grad()}, x, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: weight gradient", op)
	}
	if !op.bias {
		return G.Nodes{dx, dw}, nil
	}
	db, err := G.ApplyOp(&denseBiasGradOp[T]{denseGrad: op.grad()}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: bias gradient", op)
	}
	return G.Nodes{dx, dw, db}, nil
}

func (op *denseOp[T]) grad() denseGrad[T] {
	return denseGrad[T]{denseShapes: op.denseShapes, gemm: op.gemm}
}

// denseGrad is what the three backward ops share: the forward geometry.
type denseGrad[T opFloat] struct {
	denseShapes
	gemm gemmFunc[T]
}

func (c *denseGrad[T]) ReturnsPtr() bool     { return false }
func (c *denseGrad[T]) CallsExtern() bool    { return false }
func (c *denseGrad[T]) OverwritesInput() int { return -1 }

// denseInputGradOp computes dx = dy·wᵀ.
//
//	w: [In, Out], dy: [B, Out] → dx: [B, In]
type denseInputGradOp[T opFloat] struct {
	denseGrad[T]
	dx *tensor.Dense
}

func (op *denseInputGradOp[T]) Arity() int { return 2 }
func (op *denseInputGradOp[T]) Type() hm.Type {
	t2 := opTensorType(2)
	return hm.NewFnType(t2, t2, t2)
}
func (op *denseInputGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.xShape).Clone(), nil
}
func (op *denseInputGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *denseInputGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *denseInputGradOp[T]) String() string        { return op.describe(" dx") }

func (op *denseInputGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	w, err := opInput[T](op, inputs[0], "weight", op.wShape...)
	if err != nil {
		return nil, err
	}
	dy, err := opInput[T](op, inputs[1], "output gradient", op.yShape...)
	if err != nil {
		return nil, err
	}
	dx := opOutput[T](&op.dx, op.xShape...)
	op.gemm(blas.NoTrans, blas.Trans, op.batch, op.in, op.out, 1, dy, op.out, w, op.out, 0, dx, op.in)
	return op.dx, nil
}

// denseWeightGradOp computes dw = xᵀ·dy.
//
//	x: [B, In], dy: [B, Out] → dw: [In, Out]
type denseWeightGradOp[T opFloat] struct {
	denseGrad[T]
	dw *tensor.Dense
}

func (op *denseWeightGradOp[T]) Arity() int { return 2 }
func (op *denseWeightGradOp[T]) Type() hm.Type {
	t2 := opTensorType(2)
	return hm.NewFnType(t2, t2, t2)
}
func (op *denseWeightGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.wShape).Clone(), nil
}
func (op *denseWeightGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *denseWeightGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *denseWeightGradOp[T]) String() string        { return op.describe(" dw") }

func (op *denseWeightGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	x, err := opInput[T](op, inputs[0], "input", op.xShape...)
	if err != nil {
		return nil, err
	}
	dy, err := opInput[T](op, inputs[1], "output gradient", op.yShape...)
	if err != nil {
		return nil, err
	}
	dw := opOutput[T](&op.dw, op.wShape...)
	op.gemm(blas.Trans, blas.NoTrans, op.in, op.out, op.batch, 1, x, op.in, dy, op.out, 0, dw, op.out)
	return op.dw, nil
}

// denseBiasGradOp computes dbias, the column sums of dy, accumulated in
// float64 row by row (a fixed order, so the same bits at every run).
//
//	dy: [B, Out] → dbias: [1, Out]
type denseBiasGradOp[T opFloat] struct {
	denseGrad[T]
	acc []float64
	db  *tensor.Dense
}

func (op *denseBiasGradOp[T]) Arity() int { return 1 }
func (op *denseBiasGradOp[T]) Type() hm.Type {
	t2 := opTensorType(2)
	return hm.NewFnType(t2, t2)
}
func (op *denseBiasGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.bShape).Clone(), nil
}
func (op *denseBiasGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *denseBiasGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *denseBiasGradOp[T]) String() string        { return op.describe(" dbias") }

func (op *denseBiasGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	dy, err := opInput[T](op, inputs[0], "output gradient", op.yShape...)
	if err != nil {
		return nil, err
	}
	db := opOutput[T](&op.db, op.bShape...)
	if op.acc == nil {
		op.acc = make([]float64, op.out)
	}
	acc := op.acc
	clear(acc)
	for r := 0; r < op.batch; r++ {
		row := dy[r*op.out : (r+1)*op.out]
		row = row[:len(acc)]
		for j, v := range row {
			acc[j] += float64(v)
		}
	}
	for j, v := range acc {
		db[j] = T(v)
	}
	return op.db, nil
}

var (
	_ G.SDOp = (*denseOp[float32])(nil)
	_ G.Op   = (*denseInputGradOp[float32])(nil)
	_ G.Op   = (*denseWeightGradOp[float64])(nil)
	_ G.Op   = (*denseBiasGradOp[float64])(nil)
)
