package server

import (
	"math"
	"testing"
)

func TestFormatting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		got, want string
	}{
		{percent(0.55), "55 %"},
		{percent(0.1), "10 %"},
		{percent(0.125), "12.5 %"},
		{percent(0), "0 %"},
		{number(400000.0), "400,000"},
		{number(2000000), "2,000,000"},
		{number(999), "999"},
		{number(1234.5), "1,234.5"},
		{number(-1500), "-1,500"},
		// The shortest decimal that reads back as the value: the old
		// writer printed the fractional part alone, 4.26 as
		// 4.2599999999999998 and 1234.56 as 1,234.5599999999999454.
		{number(4.26), "4.26"},
		{number(1234.56), "1,234.56"},
		{number(-0.05), "-0.05"},
		{number(math.Nextafter(0.3, 1)), "0.30000000000000004"},
		{number(1e21), "1,000,000,000,000,000,000,000"},
		{number(0.0), "0"},
		{number(-1234567.5), "-1,234,567.5"},
		{formatBytes(2 << 20), "2 MiB"},
		{formatBytes(1 << 30), "1 GiB"},
		{formatBytes(1000), "1000 bytes"},
		{slug("Support assistant, 5 providers, 3 regions"), "support-assistant-5-providers-3-regions"},
		{slug("<script>"), "script"},
		{slug("日本"), "architecture"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestTruncateKeepsCharactersWhole(t *testing.T) {
	t.Parallel()
	if got := truncate("héllo wörld", 7); got != "héllo w…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("short", 10); got != "short" {
		t.Errorf("truncate = %q", got)
	}
}
