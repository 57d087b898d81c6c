package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version or VCS revision from the build info is used.
var version = ""

func runVersion(_ context.Context, e *env, _ []string) int {
	fmt.Fprintf(e.stdout, "gateway %s\n", buildVersion())
	return exitOK
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v = "devel+" + rev
		if dirty {
			v += "-dirty"
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("%s (%s)", v, info.GoVersion)
}
