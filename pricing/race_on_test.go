//go:build race

package pricing

// raceDetector tells tests that bound allocations that the race detector
// is on: it makes sync.Pool drop most of what is put back, so a regexp's
// pooled matcher state is allocated afresh on nearly every match.
const raceDetector = true
