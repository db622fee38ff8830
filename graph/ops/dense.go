package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DenseConfig configures Dense.
type DenseConfig struct {
	// Name tells apart, in the op's hash, layers of the same shape applied
	// to the same input (docs/GORGONIA.md#identical-nodes-merge).
	Name string
	// NoInputGrad says that the input is data: build no gradient for it.
	// Gorgonia runs every node of the backward graph, wanted or not, and
	// for the first layer of an MLP that gradient is a fifth of the GEMM
	// work.
	NoInputGrad bool
}

// Dense is a fully connected layer as one op, y = x·w + bias:
//
//	x: [B, In], w: [In, Out], bias: [1, Out] or nil → y: [B, Out]
//
// It replaces Gorgonia's Mul then BroadcastAdd, which allocate their outputs
// at every run and materialize a [B, Out] repeat of the bias: the rows of y
// are first set to the bias, then one GEMM adds x·w to them (beta = 1), so
// the bias costs one pass over y and no temporary. The backward ops are
// dx = dy·wᵀ, dw = xᵀ·dy and dbias, the column sums of dy in float64.
func Dense(x, w, bias *G.Node, cfg DenseConfig) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 2 || ws.Dims() != 2 || xs[1] != ws[0] {
		return nil, errors.Errorf("ops.Dense %s: input %v and weight %v are not [B, In] and [In, Out]", cfg.Name, xs, ws)
	}
	s := newDenseShapes(cfg.Name, xs[0], xs[1], ws[1], bias != nil, cfg.NoInputGrad)
	inputs, err := withBias("ops.Dense", cfg.Name, x, w, bias, s.bShape)
	if err != nil {
		return nil, err
	}
	return apply("ops.Dense", x.Dtype(),
		func() G.Op { return newDenseOp[float32](s) }, func() G.Op { return newDenseOp[float64](s) }, inputs...)
}

// denseShapes is a fully connected layer's geometry and the shapes of its
// tensors, made once so that checking the values at every run allocates
// nothing.
type denseShapes struct {
	name                           string
	batch, in, out                 int
	bias, noInputGrad              bool
	xShape, wShape, yShape, bShape []int
}

func newDenseShapes(name string, batch, in, out int, bias, noInputGrad bool) denseShapes {
	return denseShapes{name: name, batch: batch, in: in, out: out, bias: bias, noInputGrad: noInputGrad,
		xShape: []int{batch, in}, wShape: []int{in, out}, yShape: []int{batch, out}, bShape: []int{1, out}}
}

// base returns the Base of the forward op (what is "") or of one of its
// backward ops.
func (s *denseShapes) base(what string, dt tensor.Dtype, out []int, inRanks ...int) Base {
	return NewBase(fmt.Sprintf("Dense %s%s [%d,%d]·[%d,%d] bias=%t nodx=%t",
		s.name, what, s.batch, s.in, s.in, s.out, s.bias, s.noInputGrad), dt, out, inRanks...)
}

// denseOp is the forward op of Dense.
type denseOp[T Float] struct {
	Base
	denseShapes
	gemm    gemmFunc[T]
	x, w, b []T // the inputs of the Do under way
	y       *tensor.Dense
}

func newDenseOp[T Float](s denseShapes) *denseOp[T] {
	ranks := []int{2, 2, 2}
	if !s.bias {
		ranks = ranks[:2]
	}
	return &denseOp[T]{Base: s.base("", dtypeOf[T](), s.yShape, ranks...), denseShapes: s, gemm: gemmFor[T]()}
}

// Do implements gorgonia.Op.
func (op *denseOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	args := [3]arg[T]{input(&op.x, "input", op.xShape), input(&op.w, "weight", op.wShape), input(&op.b, "bias", op.bShape)}
	if err := readInputs(op, inputs, args[:op.Arity()]...); err != nil {
		return nil, err
	}
	y := Output[T](&op.y, op.yShape...)
	var beta T
	if op.bias {
		for r := 0; r < op.batch; r++ {
			copy(y[r*op.out:(r+1)*op.out], op.b)
		}
		beta = 1
	}
	op.gemm(blas.NoTrans, blas.NoTrans, op.batch, op.out, op.in, 1, op.x, op.in, op.w, op.out, beta, y, op.out)
	op.x, op.w, op.b = nil, nil, nil
	return op.y, nil
}

// DiffWRT implements gorgonia.SDOp.
func (op *denseOp[T]) DiffWRT(n int) []bool { return diffAllButData(n, op.noInputGrad) }

// SymDiff implements gorgonia.SDOp: dx = dy·wᵀ (unless the input is data),
// dw = xᵀ·dy, and dbias the column sums of dy.
func (op *denseOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	x, w := inputs[0], inputs[1]
	dt := dtypeOf[T]()
	var dx *G.Node
	if !op.noInputGrad {
		var err error
		dxOp := &denseGEMMGradOp[T]{Base: op.base(" dx", dt, op.xShape, 2, 2), denseShapes: op.denseShapes, gemm: op.gemm}
		if dx, err = applyGrad(op, "input gradient", dxOp, w, grad); err != nil {
			return nil, err
		}
	}
	dwOp := &denseGEMMGradOp[T]{Base: op.base(" dw", dt, op.wShape, 2, 2), denseShapes: op.denseShapes, gemm: op.gemm, dw: true}
	dw, err := applyGrad(op, "weight gradient", dwOp, x, grad)
	if err != nil {
		return nil, err
	}
	if !op.bias {
		return G.Nodes{dx, dw}, nil
	}
	dbOp := &denseBiasGradOp[T]{Base: op.base(" dbias", dt, op.bShape, 2), denseShapes: op.denseShapes}
	db, err := applyGrad(op, "bias gradient", dbOp, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// denseGEMMGradOp computes dx = dy·wᵀ, or with dw set dw = xᵀ·dy.
//
//	w: [In, Out], dy: [B, Out] → dx: [B, In]
//	x: [B, In],   dy: [B, Out] → dw: [In, Out]
type denseGEMMGradOp[T Float] struct {
	Base
	denseShapes
	gemm  gemmFunc[T]
	dw    bool
	a, dy []T // the inputs of the Do under way
	res   *tensor.Dense
}

func (op *denseGEMMGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	first, res := input(&op.a, "weight", op.wShape), op.xShape
	if op.dw {
		first, res = input(&op.a, "input", op.xShape), op.wShape
	}
	if err := readInputs(op, inputs, first, input(&op.dy, "output gradient", op.yShape)); err != nil {
		return nil, err
	}
	d := Output[T](&op.res, res...)
	if op.dw {
		op.gemm(blas.Trans, blas.NoTrans, op.in, op.out, op.batch, 1, op.a, op.in, op.dy, op.out, 0, d, op.out)
	} else {
		op.gemm(blas.NoTrans, blas.Trans, op.batch, op.in, op.out, 1, op.dy, op.out, op.a, op.out, 0, d, op.in)
	}
	op.a, op.dy = nil, nil
	return op.res, nil
}

// denseBiasGradOp computes dbias, the column sums of dy, accumulated in
// float64 row by row (a fixed order, so the same bits at every run).
//
//	dy: [B, Out] → dbias: [1, Out]
type denseBiasGradOp[T Float] struct {
	Base
	denseShapes
	acc []float64
	dy  []T // the input of the Do under way
	db  *tensor.Dense
}

func (op *denseBiasGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if err := readInputs(op, inputs, input(&op.dy, "output gradient", op.yShape)); err != nil {
		return nil, err
	}
	dy := op.dy
	op.dy = nil
	db := Output[T](&op.db, op.bShape...)
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
	_ G.Op   = (*denseGEMMGradOp[float32])(nil)
	_ G.Op   = (*denseBiasGradOp[float64])(nil)
)
