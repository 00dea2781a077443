package server

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// clientLimits keeps one token bucket per client (the signed-in user, or
// the address a request comes from), so one client cannot fill the run
// queue or the disk for everyone. Buckets idle for a while are dropped, so
// the map stays as small as the set of recent clients.
type clientLimits struct {
	every time.Duration // one token per
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// bucketIdle is how long an unused bucket is kept; by then it is full again.
const bucketIdle = 30 * time.Minute

// newClientLimits allows perMinute actions a minute per client, all at once
// at most; perMinute 0 means no limit (nil).
func newClientLimits(perMinute int) *clientLimits {
	if perMinute <= 0 {
		return nil
	}
	return &clientLimits{every: time.Minute / time.Duration(perMinute), burst: perMinute, buckets: map[string]*bucket{}}
}

func (l *clientLimits) get(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > bucketIdle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > bucketIdle {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim
}

// take spends one token of key's bucket. When there is none it returns
// false and how long until there is.
func (l *clientLimits) take(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := time.Now()
	r := l.get(key, now).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// wait says how long until key has a token, without spending one.
func (l *clientLimits) wait(key string) time.Duration {
	if l == nil {
		return 0
	}
	now := time.Now()
	lim := l.get(key, now)
	if lim.TokensAt(now) >= 1 {
		return 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// clientKey names who a request comes from for rate limits: the signed-in
// user, else the connection's address (proxies are not trusted for it).
func clientKey(c *gin.Context) string {
	if u := userOf(c); u != "" {
		return "user:" + u
	}
	return "ip:" + c.ClientIP()
}

// retryAfter is a 429 saying when to try again, with Retry-After set on
// the response in whole seconds.
func retryAfter(c *gin.Context, wait time.Duration, what string) error {
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	c.Header("Retry-After", strconv.Itoa(secs))
	return newError(http.StatusTooManyRequests, "Too many "+what+" in a short time: try again in "+humanDuration(time.Duration(secs)*time.Second)+".", nil)
}

// limit is middleware spending one of the client's tokens in l.
func (s *Server) limit(l *clientLimits, what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if ok, wait := l.take(clientKey(c)); !ok {
			s.fail(c, retryAfter(c, wait, what))
			return
		}
		c.Next()
	}
}
