package simulator

import (
	"testing"
	"time"
)

func TestDescribeTraffic(t *testing.T) {
	t.Parallel()
	azure := TrafficSource{Kind: TrafficLog, SpanHours: 1, RequestsPerDay: 464784,
		Filled: "all 1 h of it repeated 720 times to fill the 30-day horizon",
		Log:    &LogSource{File: "AzureLLMInferenceTrace_conv.csv", Format: "azure-trace", RowsRead: 19366, RowsUsed: 19366, Start: time.Date(2023, 11, 16, 18, 15, 46, 0, time.UTC)}}
	short := TrafficSource{Kind: TrafficLog, SpanHours: 0.75, RequestsPerDay: 926.045016077170430435,
		Filled: "all 45 min of it repeated 960 times to fill the 30-day horizon",
		Log:    &LogSource{File: "x.csv", Format: "csv", RowsRead: 30, RowsUsed: 29}}
	for _, tt := range []struct {
		in   TrafficSource
		want string
	}{
		{azure, "the log AzureLLMInferenceTrace_conv.csv (azure-trace; 19,366 rows over 1 h from 2023-11-16 18:15 UTC), all 1 h of it repeated 720 times to fill the 30-day horizon: 464,800 requests a day as replayed"},
		{short, "the log x.csv (csv; 29 of 30 rows over 45 min), all 45 min of it repeated 960 times to fill the 30-day horizon: 926 requests a day as replayed"},
		{TrafficSource{Kind: TrafficSynthetic, RequestsPerDay: 200000.4}, "synthetic traffic from the architecture's traffic block: 200,000 requests a day as sampled"},
		{TrafficSource{}, "traffic not recorded (the run is older than gatewise's record of it)"},
	} {
		if got := tt.in.Describe(); got != tt.want {
			t.Errorf("Describe\n got %q\nwant %q", got, tt.want)
		}
	}
}
