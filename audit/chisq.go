package audit

import (
	"math"
	"slices"
)

// Byte-frequency χ² test of uniformity.
//
// For n bytes with counts c[0..255], χ² = Σ (c[i] − n/256)² / (n/256), with 255 degrees of
// freedom. Output of a secure AEAD is indistinguishable from uniform bytes, so its χ² follows
// the χ²(255) distribution: mean 255, standard deviation 22.6. Plaintext does not: 1 KiB of
// JSON scores about 13,000, base64 text about 3,300 (SECURITY.md §3.2, measured).
const (
	// ChiSquareThreshold is the per-blob and pooled threshold. P(χ²(255) > 377) ≈ 1.06×10⁻⁶
	// by the Wilson–Hilferty approximation: about one false alarm per million clean blobs.
	// Measured on random 1 KiB blobs: median 254, 99.9th percentile 330, maximum over
	// 20,000 blobs 356.
	ChiSquareThreshold = 377.0
	// ChiSquareDOF is the degrees of freedom of a byte-frequency test.
	ChiSquareDOF = 255
	// ChiSquareRunAlarm is the false-alarm probability allowed for a whole run's per-blob
	// tests together. Up to 1,000 blobs the per-blob threshold is ChiSquareThreshold
	// (1,000 × 1.06×10⁻⁶ ≈ 10⁻³); above that it rises so that n blobs together still false-alarm
	// with probability 10⁻³ (each at 10⁻³/n): 391 at 10,000 blobs, 403 at 100,000, 415 at 10⁶.
	// Plaintext scores in the thousands, so the rise costs no real sensitivity.
	ChiSquareRunAlarm = 1e-3
	// MinChiSquareBytes is the least number of bytes tested on their own. Below it the
	// expected count per byte value (n/256 < 4) is too small for the χ²(255) tail to hold:
	// at 48 bytes, 377 is exceeded about 10⁻⁵ of the time, ten times the nominal rate. Shorter
	// ciphertexts (wrapped keys, keybags) are tested pooled instead.
	MinChiSquareBytes = 1024
)

// byteCounts accumulates a byte histogram.
type byteCounts struct {
	c [256]int64
	n int64
}

func (h *byteCounts) add(b []byte) {
	for _, x := range b {
		h.c[x]++
	}
	h.n += int64(len(b))
}

// chi2 returns the χ² statistic of the counts against the uniform distribution.
func (h *byteCounts) chi2() float64 {
	if h.n == 0 {
		return 0
	}
	e := float64(h.n) / 256
	var s float64
	for _, v := range h.c {
		d := float64(v) - e
		s += d * d
	}
	return s / e
}

// chiSquare returns the byte-frequency χ² of b.
func chiSquare(b []byte) float64 {
	var h byteCounts
	h.add(b)
	return h.chi2()
}

// chiSquareP returns P(χ²(k) > x) by the Wilson–Hilferty approximation, which is accurate
// to a few per cent of the tail probability at k = 255.
func chiSquareP(x float64, k int) float64 {
	if x <= 0 {
		return 1
	}
	kf := float64(k)
	v := 2 / (9 * kf)
	z := (math.Cbrt(x/kf) - (1 - v)) / math.Sqrt(v)
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// chiSquareQuantile returns x with P(χ²(k) > x) = p, by inverting Wilson–Hilferty.
func chiSquareQuantile(p float64, k int) float64 {
	kf := float64(k)
	v := 2 / (9 * kf)
	z := math.Sqrt2 * math.Erfcinv(2*p)
	c := 1 - v + z*math.Sqrt(v)
	return kf * c * c * c
}

// perBlobThreshold is the χ² threshold for one blob when n blobs are tested in the run.
func perBlobThreshold(n int) float64 {
	if n <= 1000 {
		return ChiSquareThreshold
	}
	return math.Max(ChiSquareThreshold, math.Round(chiSquareQuantile(ChiSquareRunAlarm/float64(n), ChiSquareDOF)))
}

// stats summarises a sample: count, min, median, max.
type stats struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

func summarize(xs []float64) stats {
	if len(xs) == 0 {
		return stats{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{N: len(s), Min: round1(s[0]), Median: round1(m), Max: round1(s[len(s)-1])}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
