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
// with the other ranges' parts into the run's result, and nothing that
// depends on how the range was split among workers.
type Partial struct {
	Range TrialRange
	// Key names the job the part belongs to.
	Key uint64

	per       []trialResult // per scenario and option, per trial of the range
	status    []providerMonth
	acc, base []accum
}

func (j *Job) newPartial(r TrialRange) *Partial {
	nS, nG := len(j.m.scen), len(j.m.options)
	return &Partial{Range: r, Key: j.key, per: make([]trialResult, r.Len()*nS*nG),
		acc: j.m.newAccums(nS * nG), base: j.m.newAccums(nG)}
}

// check makes sure a part (perhaps read back from a store) has the shape
// of the job's.
func (p *Partial) check(rows, options, providers, paths int) error {
	n := p.Range.Len()
	bad := len(p.per) != n*rows || len(p.status) != n*providers || len(p.acc) != rows || len(p.base) != options
	for _, a := range append(append([]accum(nil), p.acc...), p.base...) {
		bad = bad || len(a.waits) != latencyBuckets || len(a.cost) != paths
	}
	if bad {
		return fmt.Errorf("simulate: the part for trials %d to %d does not fit this run", p.Range.From, p.Range.To)
	}
	return nil
}

// partialWire is a Partial as it is stored between workers.
type partialWire struct {
	Range             TrialRange
	Key               uint64
	Failed, Cost      []float64
	Downtime          []float64
	Fallback, Own     []float64
	Down, Incidents   []float64
	Waits, Costs      [][]int64
	BaseWaits, BaseCs [][]int64
}

// MarshalBinary encodes the part for another process to merge.
func (p *Partial) MarshalBinary() ([]byte, error) {
	w := partialWire{Range: p.Range, Key: p.Key}
	for _, r := range p.per {
		w.Failed, w.Cost, w.Downtime = append(w.Failed, r.failed), append(w.Cost, r.cost), append(w.Downtime, r.downtime)
		w.Fallback, w.Own = append(w.Fallback, r.fallback), append(w.Own, r.own)
	}
	for _, s := range p.status {
		w.Down, w.Incidents = append(w.Down, s.down), append(w.Incidents, s.incidents)
	}
	for _, a := range p.acc {
		w.Waits, w.Costs = append(w.Waits, a.waits), append(w.Costs, a.cost)
	}
	for _, a := range p.base {
		w.BaseWaits, w.BaseCs = append(w.BaseWaits, a.waits), append(w.BaseCs, a.cost)
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
	n := len(w.Failed)
	if len(w.Cost) != n || len(w.Downtime) != n || len(w.Fallback) != n || len(w.Own) != n || len(w.Down) != len(w.Incidents) ||
		len(w.Waits) != len(w.Costs) || len(w.BaseWaits) != len(w.BaseCs) {
		return fmt.Errorf("simulate: the part for trials %d to %d is damaged", w.Range.From, w.Range.To)
	}
	*p = Partial{Range: w.Range, Key: w.Key, per: make([]trialResult, n), status: make([]providerMonth, len(w.Down))}
	for i := range n {
		p.per[i] = trialResult{failed: w.Failed[i], cost: w.Cost[i], downtime: w.Downtime[i], fallback: w.Fallback[i], own: w.Own[i]}
	}
	for i := range w.Down {
		p.status[i] = providerMonth{down: w.Down[i], incidents: w.Incidents[i]}
	}
	for i := range w.Waits {
		p.acc = append(p.acc, accum{waits: w.Waits[i], cost: w.Costs[i]})
	}
	for i := range w.BaseWaits {
		p.base = append(p.base, accum{waits: w.BaseWaits[i], cost: w.BaseCs[i]})
	}
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
