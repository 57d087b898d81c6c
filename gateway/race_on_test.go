//go:build race

package gateway

// raceEnabled is whether the race detector is on: it slows the gateway's
// work some tenfold, so the largest-list test sends a shorter list then.
const raceEnabled = true
