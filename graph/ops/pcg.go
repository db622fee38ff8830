package ops

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// pcg is math/rand/v2's PCG generator (pcg.go: a 128-bit LCG with the DXSM
// output), reproduced so that a dropout mask's draws can be made without a
// call through the Source interface per element, and so that a part of the
// mask can start at its own place in the stream (jump). Its outputs are
// rand.PCG's, bit for bit (TestPCGMatchesRand).
type pcg struct{ hi, lo uint64 }

// The constants of math/rand/v2's PCG.
const (
	pcgMulHi = 2549297995355413924
	pcgMulLo = 4865540595714422341
	pcgIncHi = 6364136223846793005
	pcgIncLo = 1442695040888963407
)

// uint64 is rand.PCG.Uint64.
func (p *pcg) uint64() uint64 {
	hi, lo := bits.Mul64(p.lo, pcgMulLo)
	hi += p.hi*pcgMulLo + p.lo*pcgMulHi
	lo, c := bits.Add64(lo, pcgIncLo, 0)
	hi, _ = bits.Add64(hi, pcgIncHi, c)
	p.lo, p.hi = lo, hi
	const cheapMul = 0xda942042e4dd58b5
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	hi *= lo | 1
	return hi
}

// mul128 is a·b mod 2¹²⁸.
func mul128(aHi, aLo, bHi, bLo uint64) (hi, lo uint64) {
	hi, lo = bits.Mul64(aLo, bLo)
	return hi + aHi*bLo + aLo*bHi, lo
}

// add128 is a+b mod 2¹²⁸.
func add128(aHi, aLo, bHi, bLo uint64) (hi, lo uint64) {
	lo, c := bits.Add64(aLo, bLo, 0)
	hi, _ = bits.Add64(aHi, bHi, c)
	return hi, lo
}

// jump returns p advanced by n steps, as n calls of uint64 would leave it,
// in O(log n): the LCG s → a·s + c composed with itself (Brown, "Random
// number generation with arbitrary strides", 1994).
func (p pcg) jump(n uint64) pcg {
	accMulHi, accMulLo, accAddHi, accAddLo := uint64(0), uint64(1), uint64(0), uint64(0)
	curMulHi, curMulLo, curAddHi, curAddLo := uint64(pcgMulHi), uint64(pcgMulLo), uint64(pcgIncHi), uint64(pcgIncLo)
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			accMulHi, accMulLo = mul128(accMulHi, accMulLo, curMulHi, curMulLo)
			accAddHi, accAddLo = mul128(accAddHi, accAddLo, curMulHi, curMulLo)
			accAddHi, accAddLo = add128(accAddHi, accAddLo, curAddHi, curAddLo)
		}
		// c ← (a+1)·c, a ← a²: the step of twice the stride.
		aHi, aLo := add128(curMulHi, curMulLo, 0, 1)
		curAddHi, curAddLo = mul128(aHi, aLo, curAddHi, curAddLo)
		curMulHi, curMulLo = mul128(curMulHi, curMulLo, curMulHi, curMulLo)
	}
	hi, lo := mul128(accMulHi, accMulLo, p.hi, p.lo)
	hi, lo = add128(hi, lo, accAddHi, accAddLo)
	return pcg{hi, lo}
}

// pcgOf returns the *rand.PCG that rng draws from, or nil if it draws from
// another source. rand.Rand keeps its source unexported, as its only field
// (math/rand/v2/rand.go); pcgSourceReadable checks that layout once.
func pcgOf(rng *rand.Rand) *rand.PCG {
	if !pcgSourceReadable {
		return nil
	}
	src := (*struct{ src rand.Source })(unsafe.Pointer(rng)).src
	p, _ := src.(*rand.PCG)
	return p
}

var pcgSourceReadable = func() bool {
	p := rand.NewPCG(1, 2)
	r := rand.New(p)
	src := (*struct{ src rand.Source })(unsafe.Pointer(r)).src
	q, ok := src.(*rand.PCG)
	return ok && q == p
}()

// loadPCG and storePCG read and set a rand.PCG's state through its binary
// encoding ("pcg:", then the high and low halves, big-endian).
func loadPCG(p *rand.PCG) pcg {
	var buf [20]byte
	b, _ := p.AppendBinary(buf[:0])
	return pcg{binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])}
}

func storePCG(p *rand.PCG, s pcg) {
	var buf [20]byte
	copy(buf[:], "pcg:")
	binary.BigEndian.PutUint64(buf[4:], s.hi)
	binary.BigEndian.PutUint64(buf[12:], s.lo)
	_ = p.UnmarshalBinary(buf[:])
}
