// Package client is the Go client of the gateway for integrators: a
// region's, a municipality's or a police district's case system, the demo,
// the benchmark and the conformance suite.
//
// A Client acts for one authority. It is configured with the gateway's URL,
// the authority's TLS client certificate, its message-signing key (and, for
// the XML formats, the signing certificate the XML-DSig signature names),
// its decryption keys, the CA that issued the gateway's TLS certificate and
// the gateway's public keys (its JWK Set, /.well-known/jwks.json, which
// FetchJWKS reads; pin it out of band in production).
//
//	Submit  seals a document in the authority's own format (JWS in JWE for
//	        the JSON formats, the XML-DSig-signed document in JWE for the XML
//	        formats), posts it, and verifies the gateway's signed receipt
//	        against what was sent (202 accepted, 200 already received).
//	Pull    long-polls the authority's own mailbox.
//	Open    verifies the gateway's signature on a delivery and decrypts it.
//	Ack     acknowledges an opened delivery with a signed receipt.
//
// Every refusal of the gateway is a *Problem carrying the problem+json
// document (RFC 9457); match it with errors.As.
package client
