// Package conventions holds no code: its tests check rules that span the
// whole repository, so that they hold without anyone remembering them.
//
//   - every dependency is at or above the minimum version that fixes its
//     known advisories (SECURITY.md), and the Go toolchain is too;
//   - every package has a package doc comment;
//   - imports point the right way: adapters and internal never import the
//     gateway service, schemas imports nothing of ours, and no production
//     package imports testing.
package conventions
