// Package gateway is the service's HTTP layer and nothing more: the routes
// (intake, mailbox, acknowledgement, JWKS, health, readiness, metrics),
// their limits and time-outs, client authentication by mutual TLS against
// the trust store, and the one place where errors become RFC 9457
// problem+json. The work on a message is done by the pipeline
// (internal/pipeline), which this package reaches through the small
// Pipeline interface it declares.
//
// # Routes
//
// On the public listener (HTTPS; a client certificate is requested and, on
// /v1, required):
//
//	POST /v1/messages                     submit a signed message (application/jose)
//	GET  /v1/mailbox?max=N&wait=SECONDS   pull the caller's own mailbox (long-poll)
//	POST /v1/mailbox/{mailbox_id}/ack     acknowledge with a signed receipt (application/jose)
//	GET  /v1/records/{record_id}/status   what became of the caller's record, per version and recipient
//	GET  /.well-known/jwks.json           the gateway's public keys (no client certificate)
//	GET  /healthz                         liveness (no client certificate)
//	GET  /readyz                          readiness and configuration gaps (no client certificate)
//
// On the operator listener (loopback by default): GET /metrics.
// The contract is schemas/openapi.yaml; a test holds the two together.
//
// # Answers
//
// A submission committed now is 202 Accepted; an identical resubmission is
// 200 OK with the original receipt. Both carry the pipeline's SubmitResult
// as JSON with one more member, "receipt": the gateway's signed receipt as
// a compact JWS. A pull answers 200 with {"messages": [...]}, each message
// the Delivery's metadata and "message", the sealed compact JWE. An
// acknowledgement answers 204. Every error is application/problem+json
// with a type URI from the catalogue (ProblemTypes).
package gateway
