#include "textflag.h"

// The float32 elementwise kernels of elementwise.go and relu.go, sixteen
// elements at a time with AVX-512, the last partial vector under a mask.
// Each gives the Go loop's bits: a comparison and a select, or one
// rounded product.

// func reluForwardAVX512(n int, y, x *float32)
// y = x where !(x < 0) (NaN and −0 pass), else +0.
TEXT ·reluForwardAVX512(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ y+8(FP), DI
	MOVQ x+16(FP), SI
	VPXORD Z0, Z0, Z0
fwdloop:
	CMPQ CX, $16
	JLT fwdtail
	VMOVUPS (SI), Z1
	VCMPPS $5, Z0, Z1, K1 // not less than: x ≥ 0 or unordered
	VMOVUPS.Z Z1, K1, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP fwdloop
fwdtail:
	TESTQ CX, CX
	JEQ fwddone
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	VMOVUPS.Z (SI), K2, Z1
	VCMPPS $5, Z0, Z1, K2, K1
	VMOVUPS.Z Z1, K1, Z2
	VMOVUPS Z2, K2, (DI)
fwddone:
	VZEROUPPER
	RET

// func reluBackwardAVX512(n int, dx, x, dy *float32)
// dx = dy where x ≥ 0 (ordered: not for NaN), else +0.
TEXT ·reluBackwardAVX512(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ dx+8(FP), DI
	MOVQ x+16(FP), SI
	MOVQ dy+24(FP), DX
	VPXORD Z0, Z0, Z0
bwdloop:
	CMPQ CX, $16
	JLT bwdtail
	VMOVUPS (SI), Z1
	VCMPPS $0x1d, Z0, Z1, K1 // greater than or equal, ordered
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP bwdloop
bwdtail:
	TESTQ CX, CX
	JEQ bwddone
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	VMOVUPS.Z (SI), K2, Z1
	VCMPPS $0x1d, Z0, Z1, K2, K1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS Z2, K2, (DI)
bwddone:
	VZEROUPPER
	RET

// func mulAVX512(n int, dst, a, b *float32)
// dst = a·b.
TEXT ·mulAVX512(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
mulloop:
	CMPQ CX, $16
	JLT multail
	VMOVUPS (SI), Z1
	VMULPS (DX), Z1, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP mulloop
multail:
	TESTQ CX, CX
	JEQ muldone
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	VMOVUPS.Z (SI), K2, Z1
	VMOVUPS.Z (DX), K2, Z2
	VMULPS Z2, Z1, Z1
	VMOVUPS Z1, K2, (DI)
muldone:
	VZEROUPPER
	RET
