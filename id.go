package baixa

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"
)

// idRand fills IDs' random bits: a ChaCha8 stream seeded from the system's
// generator once, instead of a system call per ID (two per settled movement).
var idRand = struct {
	sync.Mutex
	*rand.ChaCha8
}{ChaCha8: newChaCha8()}

func newChaCha8() *rand.ChaCha8 {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return rand.NewChaCha8(seed)
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns prefix + "_" + 26 characters that sort by creation time (a
// 48-bit millisecond timestamp then 80 random bits, as in ULID).
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	idRand.Lock()
	_, _ = idRand.Read(b[6:])
	idRand.Unlock()
	// 128 bits -> 26 base32 characters (the first carries 3 bits).
	out := make([]byte, 0, len(prefix)+27)
	out = append(out, prefix...)
	out = append(out, '_')
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift+5 > 64:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		out = append(out, crockford[v&31])
	}
	return string(out)
}

// IDAt returns the least ID NewID could give at now: IDs of things made
// from then on sort at or after it, so that a time range is an ID range.
func IDAt(prefix string, now time.Time) string {
	id := []byte(NewID(prefix, now))
	// Of the 26 characters, the first 10 are the 48-bit time (3 + 9×5
	// bits) and the last 16 the 80 random bits.
	for i := len(id) - 16; i < len(id); i++ {
		id[i] = '0'
	}
	return string(id)
}
