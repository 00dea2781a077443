package simulator

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"gatewise/simulator/traffic"
)

// Partial is what the trials of one range add up to: enough to merge
// with the other ranges' parts into the run's result, in a size that does
// not grow with the range's trials (beyond exactQuantileTrials), and
// nothing that depends on how the range was split among workers.
type Partial struct {
	Range TrialRange
	// Key names the job the part belongs to, once the part has travelled;
	// until then job does.
	Key uint64
	job *Job
	t   *tally
}

// fits makes sure a part (perhaps read back from a store) has the shape of
// the job's tally.
func (j *Job) fits(p *Partial) error {
	want := j.newTally(j.exact)
	t := p.t
	bad := t == nil || len(t.Rows) != len(want.Rows) || len(t.Pairs) != len(want.Pairs) || len(t.Cov) != len(want.Cov) ||
		len(t.Providers) != len(want.Providers) || len(t.acc) != len(want.acc) || len(t.base) != len(want.base)
	if !bad {
		for _, a := range append(append([]accum(nil), t.acc...), t.base...) {
			bad = bad || len(a.waits) != latencyBuckets || len(a.cost) != j.m.nPaths
		}
		n := int64(p.Range.Len())
		for _, r := range t.Rows {
			bad = bad || r.Failed.N != n || r.Failed.Q.Exact != j.exact
		}
	}
	if bad {
		return fmt.Errorf("simulate: the part for trials %d to %d does not fit this run", p.Range.From, p.Range.To)
	}
	return nil
}

// partialWire is a Partial as it travels between workers.
type partialWire struct {
	Range     TrialRange
	Key       uint64
	Rows      []rowTally
	Pairs     []pairTally
	Cov       []exactSum
	Providers []providerTally
	// Latency buckets and spend by path of each accumulator.
	Waits, Costs, BaseWaits, BaseCosts [][]int64
}

// MarshalBinary encodes the part for another process to merge.
func (p *Partial) MarshalBinary() ([]byte, error) {
	key := p.Key
	if p.job != nil {
		var err error
		if key, err = p.job.key(); err != nil {
			return nil, err
		}
	}
	w := partialWire{Range: p.Range, Key: key, Rows: p.t.Rows, Pairs: p.t.Pairs, Cov: p.t.Cov, Providers: p.t.Providers}
	for _, a := range p.t.acc {
		w.Waits, w.Costs = append(w.Waits, a.waits), append(w.Costs, a.cost)
	}
	for _, a := range p.t.base {
		w.BaseWaits, w.BaseCosts = append(w.BaseWaits, a.waits), append(w.BaseCosts, a.cost)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(w); err != nil {
		return nil, fmt.Errorf("simulate: encode the part for trials %d to %d: %w", p.Range.From, p.Range.To, err)
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary decodes a part MarshalBinary encoded; Merge checks that
// it fits the job.
func (p *Partial) UnmarshalBinary(data []byte) error {
	var w partialWire
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&w); err != nil {
		return fmt.Errorf("simulate: decode a part of a run: %w", err)
	}
	if len(w.Waits) != len(w.Costs) || len(w.BaseWaits) != len(w.BaseCosts) {
		return fmt.Errorf("simulate: the part for trials %d to %d is damaged", w.Range.From, w.Range.To)
	}
	t := &tally{Rows: w.Rows, Pairs: w.Pairs, Cov: w.Cov, Providers: w.Providers}
	for i := range w.Waits {
		t.acc = append(t.acc, accum{waits: w.Waits[i], cost: w.Costs[i]})
	}
	for i := range w.BaseWaits {
		t.base = append(t.base, accum{waits: w.BaseWaits[i], cost: w.BaseCosts[i]})
	}
	*p = Partial{Range: w.Range, Key: w.Key, t: t}
	return nil
}

// jobKey fingerprints what a job simulates, so a part of one run is never
// merged into another.
func jobKey(spec Spec, profile *traffic.Profile, scenarios []Scenario, trials int, seed uint64, rho float64, asOf string) (uint64, error) {
	h := fnv.New64a()
	enc := json.NewEncoder(h)
	for _, v := range []any{spec, profile, scenarios, trials, seed, rho, asOf} {
		if err := enc.Encode(v); err != nil {
			return 0, fmt.Errorf("simulate: fingerprint the run: %w", err)
		}
	}
	return h.Sum64(), nil
}
