package session

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/alexedwards/scs/v2"
)

// compactCodec is the default session codec: a compact binary encoding of
// the value types sessions hold in practice (string, int, int64, bool,
// float64, []byte, time.Time), and scs's gob codec for anything else.
//
// scs's GobCodec starts a new gob stream for every load and save, so each
// request re-sends and re-compiles the type descriptions of the session map:
// about 230 allocations and tens of microseconds per request, more than the
// rest of the kit's middleware together. This codec allocates the map and
// the values only.
//
// Its data starts with compactMagic. gob data never does (a gob stream
// starts with the non-zero length of its first message), so Decode tells
// the two apart and sessions already saved with gob keep loading. Sessions
// saved by this codec cannot be read by a manager using GobCodec: set
// Config.Codec to scs.GobCodec{} before rolling back to such a version.
type compactCodec struct{}

var _ scs.Codec = compactCodec{}

const compactMagic = "\x00lr1"

// Value type tags.
const (
	tagString = 's'
	tagInt64  = 'i'
	tagInt    = 'n'
	tagBool   = 'b'
	tagFloat  = 'f'
	tagBytes  = 'y'
	tagTime   = 't'
)

var errCorrupt = errors.New("session: corrupt session data")

// Deadlines outside this range have no UnixNano; they go through gob.
var (
	minDeadline = time.Unix(0, math.MinInt64)
	maxDeadline = time.Unix(0, math.MaxInt64)
)

// Encode implements scs.Codec.
func (compactCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	if deadline.Before(minDeadline) || deadline.After(maxDeadline) {
		return scs.GobCodec{}.Encode(deadline, values)
	}
	n := len(compactMagic) + 2*binary.MaxVarintLen64
	for k, v := range values {
		n += binary.MaxVarintLen64 + len(k) + 1 + binary.MaxVarintLen64
		switch v := v.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		case time.Time:
			n += 16
		case int64, int, bool, float64:
		default:
			return scs.GobCodec{}.Encode(deadline, values)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, compactMagic...)
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		b = appendBytes(b, k)
		switch v := v.(type) {
		case string:
			b = appendBytes(append(b, tagString), v)
		case []byte:
			b = appendBytes(append(b, tagBytes), string(v))
		case int64:
			b = binary.AppendVarint(append(b, tagInt64), v)
		case int:
			b = binary.AppendVarint(append(b, tagInt), int64(v))
		case bool:
			x := byte(0)
			if v {
				x = 1
			}
			b = append(b, tagBool, x)
		case float64:
			b = binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v))
		case time.Time:
			t, err := v.MarshalBinary()
			if err != nil { // a zone offset gob cannot keep either
				return nil, err
			}
			b = appendBytes(append(b, tagTime), string(t))
		}
	}
	return b, nil
}

func appendBytes(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Decode implements scs.Codec. Data without compactMagic is gob's.
func (compactCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) < len(compactMagic) || string(b[:len(compactMagic)]) != compactMagic {
		return scs.GobCodec{}.Decode(b)
	}
	d := decoder{b: b[len(compactMagic):]}
	ns := d.varint()
	count := d.uvarint()
	// Every entry takes at least three bytes: no count can make us
	// allocate more than the data justifies.
	if d.err != nil || count > uint64(len(d.b))/3 {
		return time.Time{}, nil, errCorrupt
	}
	values := make(map[string]any, count)
	for range count {
		k := d.key()
		if _, dup := values[k]; dup {
			return time.Time{}, nil, errCorrupt
		}
		var v any
		switch d.byte() {
		case tagString:
			v = string(d.bytes())
		case tagBytes:
			v = append([]byte{}, d.bytes()...)
		case tagInt64:
			v = d.varint()
		case tagInt:
			x := d.varint()
			if int64(int(x)) != x {
				d.err = errCorrupt
			}
			v = int(x)
		case tagBool:
			switch d.byte() {
			case 0:
				v = false
			case 1:
				v = true
			default:
				d.err = errCorrupt
			}
		case tagFloat:
			v = math.Float64frombits(binary.LittleEndian.Uint64(d.n(8)))
		case tagTime:
			var t time.Time
			if err := t.UnmarshalBinary(d.bytes()); err != nil {
				d.err = errCorrupt
			}
			v = t
		default:
			d.err = errCorrupt
		}
		if d.err != nil {
			return time.Time{}, nil, errCorrupt
		}
		values[k] = v
	}
	if len(d.b) != 0 {
		return time.Time{}, nil, errCorrupt
	}
	return time.Unix(0, ns).UTC(), values, nil
}

// decoder reads compact data; the first error sticks and every later read
// returns zero values.
type decoder struct {
	b   []byte
	err error
}

var zero8 [8]byte

func (d *decoder) n(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.err = errCorrupt
		return zero8[:]
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) byte() byte { return d.n(1)[0] }

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) bytes() []byte {
	l := d.uvarint()
	if d.err != nil || l > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	return d.n(int(l))
}

// key returns a map key, without allocating for the keys this package
// writes itself.
func (d *decoder) key() string {
	k := d.bytes()
	switch string(k) {
	case keyUser:
		return keyUser
	case keyAuthTime:
		return keyAuthTime
	case keySeen:
		return keySeen
	case keyOTPTime:
		return keyOTPTime
	}
	return string(k)
}

// sessionInfo is what the middleware needs of a stored session before the
// handler runs: whether it is still valid, and who is signed in.
type sessionInfo struct {
	deadline time.Time // the absolute deadline
	user     string    // values[keyUser] if a string
	auth     int64     // values[keyAuthTime] if an int64
	otp      int64     // values[keyOTPTime] if an int64
	seen     int64     // values[keySeen] if an int64 …
	hasSeen  bool      // … and whether it is
}

// infoOf reads a sessionInfo from decoded session data.
func infoOf(deadline time.Time, values map[string]any) sessionInfo {
	info := sessionInfo{deadline: deadline}
	info.user, _ = values[keyUser].(string)
	info.auth, _ = values[keyAuthTime].(int64)
	info.otp, _ = values[keyOTPTime].(int64)
	info.seen, info.hasSeen = values[keySeen].(int64)
	return info
}

// maxPeekKeys bounds the values peek reads; a session with more is left to
// Decode.
const maxPeekKeys = 16

// peek reads compact data as Decode does, refusing exactly what Decode
// refuses, but builds no map and boxes no value: it allocates only the user
// ID string. On the hot path (an authenticated request that changes
// nothing) it replaces a decode of about five allocations. ok is false for
// data it leaves to Decode: not compact (gob), more than maxPeekKeys
// values, or corrupt (Decode then says why).
func peek(b []byte) (info sessionInfo, ok bool) {
	info, user, ok := peekData(b)
	if ok && len(user) > 0 {
		info.user = string(user)
	}
	return info, ok
}

// peekData is peek without the user ID string: user is the ID's bytes in
// b (nil when the data has none, or an empty one), info.user is "".
func peekData(b []byte) (info sessionInfo, user []byte, ok bool) {
	if len(b) < len(compactMagic) || string(b[:len(compactMagic)]) != compactMagic {
		return sessionInfo{}, nil, false
	}
	d := decoder{b: b[len(compactMagic):]}
	ns := d.varint()
	count := d.uvarint()
	if d.err != nil || count > uint64(len(d.b))/3 || count > maxPeekKeys {
		return sessionInfo{}, nil, false
	}
	var keys [maxPeekKeys][]byte
	for i := range int(count) {
		k := d.bytes()
		for _, prev := range keys[:i] {
			if bytes.Equal(prev, k) {
				return sessionInfo{}, nil, false
			}
		}
		keys[i] = k
		switch d.byte() {
		case tagString:
			v := d.bytes()
			if string(k) == keyUser {
				user = v
			}
		case tagBytes:
			d.bytes()
		case tagInt64:
			x := d.varint()
			switch string(k) {
			case keyAuthTime:
				info.auth = x
			case keyOTPTime:
				info.otp = x
			case keySeen:
				info.seen, info.hasSeen = x, true
			}
		case tagInt:
			if x := d.varint(); int64(int(x)) != x {
				d.err = errCorrupt
			}
		case tagBool:
			if x := d.byte(); x > 1 {
				d.err = errCorrupt
			}
		case tagFloat:
			d.n(8)
		case tagTime:
			var t time.Time
			if err := t.UnmarshalBinary(d.bytes()); err != nil {
				d.err = errCorrupt
			}
		default:
			d.err = errCorrupt
		}
		if d.err != nil {
			return sessionInfo{}, nil, false
		}
	}
	if len(d.b) != 0 {
		return sessionInfo{}, nil, false
	}
	info.deadline = time.Unix(0, ns).UTC()
	return info, user, true
}
