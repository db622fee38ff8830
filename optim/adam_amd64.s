#include "textflag.h"

// func adamAVX(n int, w, grad, m, v *float32, k *adamCoef[float32])
//
// For i in [0, n), n a multiple of 8, with k's fields s, l2, decay, b1, c1,
// b2, c2, step, rbc2, eps (adam.go):
//
//	wi = w·decay
//	g = s·grad + l2·wi
//	m = b1·m + c1·g
//	v = b2·v + c2·(g·g)
//	w = wi − step·(m / (√v·rbc2 + eps))
//	grad = 0
//
// Requires AVX. No FMA: every product is rounded, as in the Go kernel.
TEXT ·adamAVX(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ w+8(FP), DI
	MOVQ grad+16(FP), SI
	MOVQ m+24(FP), R8
	MOVQ v+32(FP), R9
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Y0  // s
	VBROADCASTSS 4(AX), Y1  // l2
	VBROADCASTSS 8(AX), Y2  // decay
	VBROADCASTSS 12(AX), Y3 // b1
	VBROADCASTSS 16(AX), Y4 // c1
	VBROADCASTSS 20(AX), Y5 // b2
	VBROADCASTSS 24(AX), Y6 // c2
	VBROADCASTSS 28(AX), Y7 // step
	VBROADCASTSS 32(AX), Y8 // rbc2
	VBROADCASTSS 36(AX), Y9 // eps
	VXORPS Y15, Y15, Y15
	SHLQ $2, CX             // bytes
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  done
	VMOVUPS (DI)(BX*1), Y10 // w
	VMULPS  Y2, Y10, Y10    // wi = w·decay
	VMOVUPS (SI)(BX*1), Y11 // grad
	VMULPS  Y0, Y11, Y11    // s·grad
	VMULPS  Y1, Y10, Y12    // l2·wi
	VADDPS  Y12, Y11, Y11   // g
	VMOVUPS (R8)(BX*1), Y12 // m
	VMULPS  Y3, Y12, Y12    // b1·m
	VMULPS  Y4, Y11, Y13    // c1·g
	VADDPS  Y13, Y12, Y12   // mi
	VMOVUPS Y12, (R8)(BX*1)
	VMULPS  Y11, Y11, Y13   // g·g
	VMULPS  Y6, Y13, Y13    // c2·(g·g)
	VMOVUPS (R9)(BX*1), Y14 // v
	VMULPS  Y5, Y14, Y14    // b2·v
	VADDPS  Y13, Y14, Y14   // vi
	VMOVUPS Y14, (R9)(BX*1)
	VSQRTPS Y14, Y14        // √vi
	VMULPS  Y8, Y14, Y14    // ·rbc2
	VADDPS  Y9, Y14, Y14    // + eps
	VDIVPS  Y14, Y12, Y12   // mi / (√vi·rbc2 + eps)
	VMULPS  Y7, Y12, Y12    // step·(…)
	VSUBPS  Y12, Y10, Y10   // wi − step·(…)
	VMOVUPS Y10, (DI)(BX*1)
	VMOVUPS Y15, (SI)(BX*1) // grad = 0
	ADDQ    $32, BX
	JMP     loop

done:
	VZEROUPPER
	RET

// func finiteAVX512(n int, x *float32) bool
//
// Whether no element of x[:n] has an exponent of all ones (±Inf, NaN):
// the largest |x| as bits is below 0x7f800000. Sixteen elements at a time,
// four vectors a trip, the last partial vector under a mask.
TEXT ·finiteAVX512(SB), NOSPLIT, $0-17
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z8 // abs mask
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
finloop4:
	CMPQ CX, $64
	JLT finloop1
	VPANDD (SI), Z8, Z4
	VPMAXUD Z4, Z0, Z0
	VPANDD 64(SI), Z8, Z5
	VPMAXUD Z5, Z1, Z1
	VPANDD 128(SI), Z8, Z6
	VPMAXUD Z6, Z2, Z2
	VPANDD 192(SI), Z8, Z7
	VPMAXUD Z7, Z3, Z3
	ADDQ $256, SI
	SUBQ $64, CX
	JMP finloop4
finloop1:
	CMPQ CX, $16
	JLT fintail
	VPANDD (SI), Z8, Z4
	VPMAXUD Z4, Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JMP finloop1
fintail:
	TESTQ CX, CX
	JEQ finreduce
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVDQU32.Z (SI), K1, Z4
	VPANDD Z4, Z8, Z4
	VPMAXUD Z4, Z0, Z0
finreduce:
	VPMAXUD Z1, Z0, Z0
	VPMAXUD Z3, Z2, Z2
	VPMAXUD Z2, Z0, Z0
	MOVL $0x7f800000, AX
	VPBROADCASTD AX, Z9
	VPCMPUD $5, Z9, Z0, K2 // not less than: max ≥ 0x7f800000
	KORTESTW K2, K2
	SETEQ ret+16(FP)
	VZEROUPPER
	RET
