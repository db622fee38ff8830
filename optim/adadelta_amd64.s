#include "textflag.h"

// func adadeltaAVX(n int, w, grad, v, u *float32, k *adadeltaCoef[float32])
//
// For i in [0, n), n a multiple of 8, with k's fields s, wd, rho, omr, eps,
// lr (adadelta.go):
//
//	g = s·grad + wd·w
//	v = rho·v + omr·(g·g)
//	d = (√(u + eps) / √(v + eps))·g
//	u = rho·u + omr·(d·d)
//	w = w − lr·d
//	grad = 0
//
// Requires AVX. No FMA: every product is rounded, as in the Go kernel.
TEXT ·adadeltaAVX(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ w+8(FP), DI
	MOVQ grad+16(FP), SI
	MOVQ v+24(FP), R8
	MOVQ u+32(FP), R9
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Y0  // s
	VBROADCASTSS 4(AX), Y1  // wd
	VBROADCASTSS 8(AX), Y2  // rho
	VBROADCASTSS 12(AX), Y3 // omr
	VBROADCASTSS 16(AX), Y4 // eps
	VBROADCASTSS 20(AX), Y5 // lr
	VXORPS Y15, Y15, Y15
	SHLQ $2, CX             // bytes
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  done
	VMOVUPS (SI)(BX*1), Y6  // grad
	VMULPS  Y0, Y6, Y6      // s·grad
	VMOVUPS (DI)(BX*1), Y7  // w
	VMULPS  Y1, Y7, Y8      // wd·w
	VADDPS  Y8, Y6, Y6      // g
	VMOVUPS (R8)(BX*1), Y9  // v
	VMULPS  Y2, Y9, Y9      // rho·v
	VMULPS  Y6, Y6, Y10     // g·g
	VMULPS  Y3, Y10, Y10    // omr·(g·g)
	VADDPS  Y10, Y9, Y9     // vi
	VMOVUPS Y9, (R8)(BX*1)
	VMOVUPS (R9)(BX*1), Y11 // u
	VADDPS  Y4, Y11, Y12    // u + eps
	VSQRTPS Y12, Y12
	VADDPS  Y4, Y9, Y13     // vi + eps
	VSQRTPS Y13, Y13
	VDIVPS  Y13, Y12, Y12   // √(u+eps) / √(vi+eps)
	VMULPS  Y6, Y12, Y12    // d
	VMULPS  Y2, Y11, Y11    // rho·u
	VMULPS  Y12, Y12, Y14   // d·d
	VMULPS  Y3, Y14, Y14    // omr·(d·d)
	VADDPS  Y14, Y11, Y11
	VMOVUPS Y11, (R9)(BX*1)
	VMULPS  Y5, Y12, Y14    // lr·d
	VSUBPS  Y14, Y7, Y7     // w − lr·d
	VMOVUPS Y7, (DI)(BX*1)
	VMOVUPS Y15, (SI)(BX*1) // grad = 0
	ADDQ    $32, BX
	JMP     loop

done:
	VZEROUPPER
	RET
