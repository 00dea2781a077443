package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// memoryReport is the server's memory over the run, from /proc/PID/status.
type memoryReport struct {
	// PeakBytes is VmHWM, the kernel's own high-water mark of the
	// resident set, so a spike between two samples still counts.
	PeakBytes int64 `json:"peak_bytes"`
	// PeakSampledBytes is the largest VmRSS seen in the samples.
	PeakSampledBytes int64 `json:"peak_sampled_rss_bytes"`
	// LastBytes is VmRSS at the last sample, once the load was over.
	LastBytes int64 `json:"last_rss_bytes"`
	Samples   int   `json:"samples"`
	// PerSecond is VmRSS once a second, for a picture of the run.
	PerSecond []memorySample `json:"per_second"`
	Error     string         `json:"error,omitempty"`
}

type memorySample struct {
	Seconds  float64 `json:"t"`
	RSSBytes int64   `json:"rss_bytes"`
}

// sampleMemory reads the process's VmHWM and VmRSS every `every` until ctx
// ends, and returns what it saw.
func sampleMemory(ctx context.Context, pid int, every time.Duration) memoryReport {
	var r memoryReport
	start := time.Now()
	next := time.Duration(0)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		hwm, rss, err := readMemory(pid)
		if err != nil {
			if r.Samples == 0 {
				r.Error = err.Error()
			}
		} else {
			r.Error = ""
			r.Samples++
			r.PeakBytes = max(r.PeakBytes, hwm)
			r.PeakSampledBytes = max(r.PeakSampledBytes, rss)
			r.LastBytes = rss
			if at := time.Since(start); at >= next {
				r.PerSecond = append(r.PerSecond, memorySample{Seconds: at.Round(time.Millisecond).Seconds(), RSSBytes: rss})
				next += time.Second
			}
		}
		select {
		case <-ctx.Done():
			return r
		case <-tick.C:
		}
	}
}

// readMemory returns VmHWM and VmRSS of pid, in bytes.
func readMemory(pid int) (hwm, rss int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read server memory: %w", err)
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmHWM":
			dst = &hwm
		case "VmRSS":
			dst = &rss
		default:
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(val), []byte("kB")))), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("read server memory: %s: %w", key, err)
		}
		*dst = kb << 10
		found++
	}
	if found < 2 {
		return 0, 0, fmt.Errorf("read server memory: no VmHWM and VmRSS in /proc/%d/status (has the process ended?)", pid)
	}
	return hwm, rss, nil
}
