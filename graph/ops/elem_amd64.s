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

// Indices of the even and the odd elements of 32 floats held in two
// vectors, for VPERMT2PS, and 0, 2, …, 30 as int32.
DATA poolEven<>+0(SB)/4, $0
DATA poolEven<>+4(SB)/4, $2
DATA poolEven<>+8(SB)/4, $4
DATA poolEven<>+12(SB)/4, $6
DATA poolEven<>+16(SB)/4, $8
DATA poolEven<>+20(SB)/4, $10
DATA poolEven<>+24(SB)/4, $12
DATA poolEven<>+28(SB)/4, $14
DATA poolEven<>+32(SB)/4, $16
DATA poolEven<>+36(SB)/4, $18
DATA poolEven<>+40(SB)/4, $20
DATA poolEven<>+44(SB)/4, $22
DATA poolEven<>+48(SB)/4, $24
DATA poolEven<>+52(SB)/4, $26
DATA poolEven<>+56(SB)/4, $28
DATA poolEven<>+60(SB)/4, $30
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

// func maxPool2x2RowAVX512(ow int, top *float32, w int, y *float32, arg *int32, base int32)
//
// One output row of a 2×2, stride-2 max pool: for each of ow outputs, the
// window top[2j], top[2j+1], top[w+2j], top[w+2j+1]; y gets its maximum and
// arg base plus its index from top, picked as maxPool2x2 does (pool.go):
// the first maximum of each row's pair, then of the two, a later element
// winning only if it is not ≤ the earlier and the earlier is not NaN
// (later2i). Sixteen outputs at a time; masks for the last.
TEXT ·maxPool2x2RowAVX512(SB), NOSPLIT, $0-44
	MOVQ ow+0(FP), CX
	MOVQ top+8(FP), SI
	MOVQ w+16(FP), DX
	SHLQ $2, DX
	MOVQ y+24(FP), DI
	MOVQ arg+32(FP), R8
	MOVL base+40(FP), R9
	VPBROADCASTD R9, Z20
	VMOVDQU32 poolEven<>(SB), Z21  // even indices; 0, 2, …, 30
	VPTERNLOGD $0xff, Z22, Z22, Z22 // all ones
	VPSRLD $31, Z22, Z22            // 1 in every lane
	VPADDD Z22, Z21, Z23            // odd indices
	VPADDD Z20, Z21, Z20            // base + 2j for the first 16 outputs
	MOVQ DX, R9
	SHRQ $2, R9
	VPBROADCASTD R9, Z24            // w, to index the bottom row
	MOVL $32, R9
	VPBROADCASTD R9, Z25            // 32: the next 16 outputs' indices
	MOVQ $-1, R10
poolloop:
	TESTQ CX, CX
	JLE pooldone
	MOVQ CX, R11
	CMPQ R11, $16
	JLE poolmasks
	MOVQ $16, R11
poolmasks:
	// K1, K2: the 2·n inputs of each row; K3: the n outputs.
	MOVQ R11, R12
	SHLQ $1, R12
	BZHIQ R12, R10, R13
	KMOVW R13, K1
	SHRQ $16, R13
	KMOVW R13, K2
	BZHIQ R11, R10, R13
	KMOVW R13, K3
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z (SI)(DX*1), K1, Z2
	VMOVUPS.Z 64(SI)(DX*1), K2, Z3
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z21, Z4 // a: top evens
	VMOVAPS Z0, Z5
	VPERMT2PS Z1, Z23, Z5 // b: top odds
	VMOVAPS Z2, Z6
	VPERMT2PS Z3, Z21, Z6 // c: bottom evens
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z23, Z7 // d: bottom odds
	// Top pair: b replaces a if !(b ≤ a) and a is not NaN.
	VCMPPS $0x16, Z4, Z5, K4     // b not ≤ a (true if unordered)
	VCMPPS $7, Z4, Z4, K4, K4    // and a ordered
	VBLENDMPS Z5, Z4, K4, Z8     // top value
	VMOVDQA32 Z20, Z9
	VPADDD Z22, Z20, K4, Z9      // top index
	VCMPPS $0x16, Z6, Z7, K5
	VCMPPS $7, Z6, Z6, K5, K5
	VBLENDMPS Z7, Z6, K5, Z10    // bottom value
	VPADDD Z24, Z20, Z11
	VPADDD Z22, Z11, K5, Z11     // bottom index
	VCMPPS $0x16, Z8, Z10, K6
	VCMPPS $7, Z8, Z8, K6, K6
	VBLENDMPS Z10, Z8, K6, Z12
	VPBLENDMD Z11, Z9, K6, Z13
	VMOVUPS Z12, K3, (DI)
	VMOVDQU32 Z13, K3, (R8)
	ADDQ $128, SI
	ADDQ $64, DI
	ADDQ $64, R8
	VPADDD Z25, Z20, Z20
	SUBQ $16, CX
	JMP poolloop
pooldone:
	VZEROUPPER
	RET
