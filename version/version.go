// Package version tells which build of gatewise is running; memos and
// /healthz carry it so a result can be traced to the code that made it.
package version

import "runtime/debug"

// set at link time: go build -ldflags "-X gatewise/version.tag=v1.2.3"
var tag string

// String is the release tag when set at link time, else the module version or
// VCS revision recorded by the Go toolchain, else "dev".
func String() string {
	if tag != "" {
		return tag
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
