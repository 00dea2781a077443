package traffic

import (
	"math"
	"strconv"
)

// The parsers below work on the raw bytes of a field so that a row costs no
// allocation in the common case; anything unusual falls back to strconv.

// pow10 holds the exactly representable powers of ten used by parseFloat's
// fast path (10^22 is the largest one a float64 holds exactly).
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// pow10i holds the powers of ten up to a second in nanoseconds.
var pow10i = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// parseFloat reads a decimal number. Plain "[-]digits[.digits]" with at most
// 15 significant digits is computed exactly (mantissa and power of ten are
// both exact, so one division rounds correctly); everything else goes through
// strconv. NaN and infinities are refused: no log field means them.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	i, neg := 0, false
	if b[0] == '-' || b[0] == '+' {
		neg, i = b[0] == '-', 1
	}
	var m uint64
	digits, frac, sawDot, sawDigit := 0, 0, false, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if m == 0 && c == '0' {
				if sawDot {
					frac++
				}
				continue
			}
			m = m*10 + uint64(c-'0')
			digits++
			if sawDot {
				frac++
			}
		case c == '.' && !sawDot:
			sawDot = true
		default:
			return slowFloat(b)
		}
	}
	if !sawDigit || digits > 15 || frac > 22 {
		return slowFloat(b)
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

func slowFloat(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseCount reads a whole number (a token or request count). Exports written
// by spreadsheet tools often say "12.0", which is accepted; "12.5" is not.
func parseCount(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 32 {
		return 0, false
	}
	i, neg := 0, false
	if b[0] == '-' || b[0] == '+' {
		neg, i = b[0] == '-', 1
	}
	if i == len(b) {
		return 0, false
	}
	var n int64
	for ; i < len(b); i++ {
		c := b[i]
		if c >= '0' && c <= '9' {
			if n > (math.MaxInt64-9)/10 {
				return 0, false
			}
			n = n*10 + int64(c-'0')
			continue
		}
		if c == '.' || c == 'e' || c == 'E' {
			f, ok := parseFloat(b)
			if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return 0, false
			}
			return int64(f), true
		}
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseBool reads the many spellings of success and failure that exports use:
// true/false, 1/0, yes/no, and the status words of LiteLLM and friends.
func parseBool(b []byte) (v, ok bool) {
	if len(b) > 16 {
		return false, false
	}
	var buf [16]byte // lower-cased here, so the hot path allocates nothing
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(b)]) {
	case "true", "t", "1", "yes", "y", "success", "ok", "succeeded", "completed":
		return true, true
	case "false", "f", "0", "no", "n", "failure", "failed", "error", "fail", "cancelled", "canceled":
		return false, true
	}
	return false, false
}

// daysFromCivil counts days from 1970-01-01 to the proleptic Gregorian date
// y-m-d (Howard Hinnant's days_from_civil algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

var daysIn = [13]int64{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// parseISO reads an ISO 8601 / RFC 3339 timestamp as Unix nanoseconds:
// "2006-01-02", then optionally "T" or " " and "15:04[:05[.fraction]]", then
// optionally "Z", "+07", "+0700" or "+07:00". A missing zone means UTC, which
// is what Azure's trace and PostgreSQL dumps without a zone mean in practice.
// It is hand-written because time.Parse dominated the profile of a CSV read.
func parseISO(b []byte) (int64, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	secs, ok := isoDate(b[:10])
	if !ok {
		return 0, false
	}
	if len(b) == 10 {
		return isoTail(nil, secs)
	}
	if len(b) < 16 {
		return 0, false
	}
	m, ok := isoMinute(b[10:16])
	if !ok {
		return 0, false
	}
	return isoTail(b[16:], secs+m)
}

// isoCache remembers the date, hour and minute of the last timestamp read:
// a log's rows come in time order, so most share them with the row before,
// and only the seconds and zone are left to read.
type isoCache struct {
	key  [16]byte
	secs int64
	ok   bool
}

// parse is parseISO with the cache.
func (c *isoCache) parse(b []byte) (int64, bool) {
	if len(b) >= 16 {
		if c.ok && [16]byte(b[:16]) == c.key {
			return isoTail(b[16:], c.secs)
		}
		if b[4] == '-' && b[7] == '-' {
			d, ok1 := isoDate(b[:10])
			m, ok2 := isoMinute(b[10:16])
			if ok1 && ok2 {
				c.key, c.secs, c.ok = [16]byte(b[:16]), d+m, true
				return isoTail(b[16:], d+m)
			}
		}
	}
	return parseISO(b)
}

// isoNum reads a run of digits.
func isoNum(s []byte) (int64, bool) {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, len(s) > 0
}

// isoDate reads "2006-01-02" as seconds since the epoch.
func isoDate(b []byte) (int64, bool) {
	if b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := isoNum(b[0:4])
	mo, ok2 := isoNum(b[5:7])
	d, ok3 := isoNum(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn[mo] ||
		(mo == 2 && d == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0))) {
		return 0, false
	}
	return daysFromCivil(y, mo, d) * 86400, true
}

// isoMinute reads "T15:04" (or " 15:04") as seconds into the day.
func isoMinute(b []byte) (int64, bool) {
	if (b[0] != 'T' && b[0] != ' ' && b[0] != 't') || b[3] != ':' {
		return 0, false
	}
	h, ok1 := isoNum(b[1:3])
	mi, ok2 := isoNum(b[4:6])
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return 0, false
	}
	return h*3600 + mi*60, true
}

// isoTail reads what follows the minute, ":05[.fraction]" and the zone,
// onto secs.
func isoTail(rest []byte, secs int64) (int64, bool) {
	// The common tail, ":05.123" with up to 9 digits and no zone or Z, is
	// read here; anything else below.
	n := len(rest)
	if n > 0 && (rest[n-1] == 'Z' || rest[n-1] == 'z') {
		n--
	}
	if n >= 3 && n <= 13 && rest[0] == ':' && rest[1]-'0' < 10 && rest[2]-'0' < 10 && (n == 3 || rest[3] == '.' && n > 4) {
		s := int64(rest[1]-'0')*10 + int64(rest[2]-'0')
		var nanos int64
		i := min(4, n)
		for ; i < n && rest[i]-'0' < 10; i++ {
			nanos = nanos*10 + int64(rest[i]-'0')
		}
		if i == n && s <= 60 && secs < math.MaxInt64/1_000_000_000-61 && secs > math.MinInt64/1_000_000_000+1 {
			if n > 4 {
				nanos *= pow10i[13-n]
			}
			return (secs+s)*1e9 + nanos, true
		}
	}
	var nanos int64
	if len(rest) >= 3 && rest[0] == ':' {
		s, ok := isoNum(rest[1:3])
		if !ok || s > 60 {
			return 0, false
		}
		secs += s
		rest = rest[3:]
		if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
			// Digits past the ninth (below a nanosecond) are read and dropped.
			j := 1
			for ; j < len(rest) && rest[j] >= '0' && rest[j] <= '9'; j++ {
				if j <= 9 {
					nanos = nanos*10 + int64(rest[j]-'0')
				}
			}
			if j == 1 {
				return 0, false
			}
			if j <= 9 {
				nanos *= int64(pow10[10-j])
			}
			rest = rest[j:]
		}
	}
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case rest[0] == '+' || rest[0] == '-':
		z := rest[1:]
		var zh, zm int64
		var ok1, ok2 bool
		switch len(z) {
		case 2:
			zh, ok1 = isoNum(z)
			ok2 = true
		case 4:
			zh, ok1 = isoNum(z[0:2])
			zm, ok2 = isoNum(z[2:4])
		case 5:
			zh, ok1 = isoNum(z[0:2])
			zm, ok2 = isoNum(z[3:5])
			ok2 = ok2 && z[2] == ':'
		}
		if !ok1 || !ok2 || zh > 24 || zm > 59 {
			return 0, false
		}
		off := zh*3600 + zm*60
		if rest[0] == '+' {
			off = -off
		}
		secs += off
	default:
		return 0, false
	}
	if secs > math.MaxInt64/1_000_000_000-1 || secs < math.MinInt64/1_000_000_000+1 {
		return 0, false
	}
	return secs*1e9 + nanos, true
}
