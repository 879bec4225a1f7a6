package crypto

import (
	"fmt"
	"strings"
	"unicode"
)

// crockfordAlphabet is Douglas Crockford's base32 alphabet: digits and
// upper-case letters without I, L, O and U, so that the characters people
// confuse most are either absent or read as the same symbol.
const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// crockfordEncode encodes b as a bit stream, most significant bit first, five
// bits per symbol; the last symbol is padded with zero bits. It returns
// symbol values 0..31, not characters.
func crockfordEncode(b []byte) []byte {
	n := (len(b)*8 + 4) / 5
	out := make([]byte, n)
	for i := range n {
		var v byte
		for j := range 5 {
			bit := i*5 + j
			v <<= 1
			if bit < len(b)*8 && b[bit/8]&(0x80>>(bit%8)) != 0 {
				v |= 1
			}
		}
		out[i] = v
	}
	return out
}

// crockfordDecode reverses crockfordEncode for exactly nbytes bytes. It
// refuses non-zero padding bits, so every value has one encoding.
func crockfordDecode(syms []byte, nbytes int) ([]byte, error) {
	if len(syms) != (nbytes*8+4)/5 {
		return nil, fmt.Errorf("%d symbols for %d bytes: %w", len(syms), nbytes, ErrMalformed)
	}
	out := make([]byte, nbytes)
	for i, v := range syms {
		for j := range 5 {
			if v&(0x10>>j) == 0 {
				continue
			}
			bit := i*5 + j
			if bit >= nbytes*8 {
				return nil, fmt.Errorf("non-zero padding bits in the last character: %w", ErrMalformed)
			}
			out[bit/8] |= 0x80 >> (bit % 8)
		}
	}
	return out, nil
}

// luhn32 returns the Luhn mod N check symbol (N = 32) of symbol values.
//
// Why Luhn mod 32 rather than Crockford's own mod-37 check symbol: mod 37
// needs five extra symbols (* ~ $ = U) that are awkward to read aloud and to
// type on phones. Luhn mod N stays in the alphabet and detects every
// single-character error and every swap of adjacent characters except 0↔Z.
func luhn32(syms []byte) byte {
	const n = 32
	factor, sum := 2, 0
	for i := len(syms) - 1; i >= 0; i-- {
		addend := factor * int(syms[i])
		factor = 3 - factor
		sum += addend/n + addend%n
	}
	return byte((n - sum%n) % n)
}

// crockfordText renders symbol values as characters.
func crockfordText(syms []byte) string {
	b := make([]byte, len(syms))
	for i, v := range syms {
		b[i] = crockfordAlphabet[v]
	}
	return string(b)
}

// groupText joins s in groups of the given sizes with dashes.
func groupText(s string, sizes ...int) string {
	var sb strings.Builder
	for i, n := range sizes {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(s[:n])
		s = s[n:]
	}
	return sb.String()
}

// crockfordSymbols reads typed text tolerantly: it drops spaces and dashes
// (any Unicode space or dash punctuation, since printed kits get copied
// through word processors), ignores case, and reads O as 0 and I or L as 1.
// It returns symbol values.
func crockfordSymbols(text string) ([]byte, error) {
	out := make([]byte, 0, len(text))
	for _, c := range text {
		if unicode.IsSpace(c) || unicode.Is(unicode.Pd, c) {
			continue
		}
		switch c = unicode.ToUpper(c); c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		i := strings.IndexRune(crockfordAlphabet, c)
		if i < 0 {
			return nil, fmt.Errorf("character %q is not used in codes: %w", c, ErrMalformed)
		}
		out = append(out, byte(i))
	}
	return out, nil
}
