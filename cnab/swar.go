package cnab

import "encoding/binary"

// Eight bytes at a time: the reader's hot loops (is the line ASCII, are
// these digits, what number do they write) read a field as one 64-bit
// word, first character in the lowest byte.
const (
	ones    uint64 = 0x0101010101010101
	zeros8         = '0' * ones // "00000000"
	blanks8        = ' ' * ones
	high4          = 0xF0 * ones
	high1          = 0x80 * ones
)

func word(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// ascii reports whether b has no byte of 0x80 or above.
func ascii(b []byte) bool {
	var acc uint64
	for len(b) >= 32 {
		acc |= word(b) | word(b[8:]) | word(b[16:]) | word(b[24:])
		b = b[32:]
	}
	for len(b) >= 8 {
		acc |= word(b)
		b = b[8:]
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&high1 == 0
}

// digits8 reports whether the eight bytes of x are all '0'-'9'. Adding 6
// carries no byte into the next once all are 0x30-0x3F.
func digits8(x uint64) bool {
	return x&high4 == zeros8 && (x+6*ones)&high4 == zeros8
}

// value8 is the number written by eight digit values (0-9, the first in
// the lowest byte): pairs, then fours, then all eight.
func value8(x uint64) uint64 {
	x = (x*10 + x>>8) & 0x00FF00FF00FF00FF
	x = (x*100 + x>>16) & 0x0000FFFF0000FFFF
	return (x*10000 + x>>32) & 0xFFFFFFFF
}

// decimal parses b, 1 to 18 digits, in base 10; ok is false when b is
// empty, longer or holds anything but digits (blanks included).
func decimal(b []byte) (v uint64, ok bool) {
	n := len(b)
	if n == 0 || n > 18 {
		return 0, false
	}
	if n < 8 {
		for _, c := range b {
			d := c - '0'
			if d > 9 {
				return 0, false
			}
			v = v*10 + uint64(d)
		}
		return v, true
	}
	if n <= 16 && word(b) == zeros8 && word(b[n-8:]) == zeros8 {
		return 0, true // most amounts in a file are zero (the two words cover up to 16 digits)
	}
	if k := n % 8; k != 0 {
		// The first k digits: a whole word read, the rest shifted out.
		x := word(b)
		if !digits8(x) {
			return 0, false
		}
		v = value8((x - zeros8) << (8 * (8 - k)))
		b = b[k:]
	}
	for len(b) >= 8 {
		x := word(b)
		if !digits8(x) {
			return 0, false
		}
		v = v*100000000 + value8(x-zeros8)
		b = b[8:]
	}
	return v, true
}
