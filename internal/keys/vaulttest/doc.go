// Package vaulttest tests the keys package's Vault provider against a real
// HashiCorp Vault: Vault's own in-process core (transit and KV v2 only)
// behind its real HTTP API on loopback. TestServeWithVault also builds the
// gateway binary in the root module and runs "serve -config" with the
// Vault provider against that Vault.
//
// It is a nested module so that Vault's large dependency graph never
// enters the gateway's build. Run it with
//
//	cd internal/keys/vaulttest && go test ./...
//
// The first build takes several minutes and about 3 GB of memory; later
// runs are cached.
package vaulttest
