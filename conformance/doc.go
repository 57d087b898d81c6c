// Package conformance will hold a conformance suite anyone can run against a
// live gateway: test vectors (valid and hostile) and a runner. It is built
// with the service; this file reserves the top-level folder.
package conformance
