package server

import "testing"

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
