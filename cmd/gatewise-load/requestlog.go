package main

import (
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// spendLogHeader is the LiteLLM SpendLogs export header gatewise detects
// (preset litellm-spendlogs: request_id, spend, startTime, prompt_tokens).
const spendLogHeader = "request_id,call_type,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,custom_llm_provider,user,status\n"

// logModel is one model of the embedded architecture, with its share of
// rows and typical tokens, so that every row routes to one of its routes.
type logModel struct {
	name          string
	share         float64
	input, output int
	// usdIn and usdOut are prices per token, to fill the spend column.
	usdIn, usdOut float64
}

var logModels = []logModel{
	{name: "gpt-4.1-mini", share: 0.8, input: 1200, output: 300, usdIn: 0.4e-6, usdOut: 1.6e-6},
	{name: "gpt-4.1-nano", share: 0.2, input: 2500, output: 150, usdIn: 0.1e-6, usdOut: 0.4e-6},
}

// logSpan is how much time a generated log covers: the architecture's
// 30-day horizon.
const logSpan = 30 * 24 * time.Hour

// approxRowBytes sizes the time step so that rows spread over logSpan.
const approxRowBytes = 150

// spendLog is a LiteLLM SpendLogs CSV of at least size bytes, made row by
// row as it is read: a 50 MB log costs one row of memory, not 50 MB. The
// same seed gives the same bytes.
type spendLog struct {
	size    int64
	written int64
	buf     []byte // the current row, from off on not yet read
	off     int
	rng     *rand.Rand
	user    int
	row     int64
	t       time.Time
	step    time.Duration
}

func newSpendLog(size int64, user int) *spendLog {
	rows := max(size/approxRowBytes, 1)
	return &spendLog{
		size: size,
		rng:  rand.New(rand.NewPCG(uint64(user), 0x6761746577697365)),
		user: user,
		t:    time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC),
		step: logSpan / time.Duration(rows),
		buf:  []byte(spendLogHeader),
	}
}

func (l *spendLog) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if l.off == len(l.buf) {
			if l.written >= l.size {
				break
			}
			l.next()
		}
		c := copy(p[n:], l.buf[l.off:])
		l.off += c
		n += c
		l.written += int64(c)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// next makes the following row: mostly successes, 1 % failures with no
// tokens, latencies of a second or so with a long tail.
func (l *spendLog) next() {
	l.row++
	r := l.rng
	m := logModels[len(logModels)-1]
	pick := r.Float64()
	for _, c := range logModels {
		if pick < c.share {
			m = c
			break
		}
		pick -= c.share
	}
	l.t = l.t.Add(time.Duration(float64(l.step) * (0.5 + r.Float64())))
	ok := r.Float64() >= 0.01
	in, out := 0, 0
	if ok {
		in = m.input/2 + r.IntN(m.input)
		out = m.output/2 + r.IntN(m.output)
	}
	latency := time.Duration(300+r.ExpFloat64()*900) * time.Millisecond
	spend := float64(in)*m.usdIn + float64(out)*m.usdOut

	b := l.buf[:0]
	b = append(b, "req-"...)
	b = strconv.AppendInt(b, int64(l.user), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, l.row, 10)
	b = append(b, ",acompletion,"...)
	b = strconv.AppendFloat(b, spend, 'f', 6, 64)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(in+out), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(in), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(out), 10)
	b = append(b, ',')
	b = appendStamp(b, l.t)
	b = append(b, ',')
	b = appendStamp(b, l.t.Add(latency))
	b = append(b, ',')
	b = append(b, m.name...)
	b = append(b, ',')
	b = append(b, m.name...)
	b = append(b, ",openai,user-"...)
	b = strconv.AppendInt(b, l.row%97, 10)
	if ok {
		b = append(b, ",success\n"...)
	} else {
		b = append(b, ",failure\n"...)
	}
	l.buf, l.off = b, 0
}

// appendStamp writes t as LiteLLM's Postgres export does, "2006-01-02
// 15:04:05.000+00", several times faster than time.AppendFormat: the
// generator must keep ahead of 50 uploads on two cores.
func appendStamp(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, ' ')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	return append(b, "+00"...)
}

// appendDigits writes v with exactly width digits, zero-padded.
func appendDigits(b []byte, v, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		p := 1
		for range i {
			p *= 10
		}
		b = append(b, byte('0'+v/p%10))
	}
	return b
}
