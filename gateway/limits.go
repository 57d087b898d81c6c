package gateway

import (
	"time"

	"github.com/psykosocial/exchange/internal/envelope"
)

// Limits of the HTTP layer, in one place. Each bounds what a client can make
// the gateway hold or wait for; the reason is on the line. The chain is
// body ≥ envelope ≥ verifier ≥ adapter: MaxSubmitBytes is the envelope
// package's own limit, so nothing the envelope would accept is refused here.
const (
	// MaxSubmitBytes bounds a submission's body: exactly the largest
	// envelope internal/envelope opens (an 8 MiB document, base64url twice:
	// a police list of 2,000 persons).
	MaxSubmitBytes = envelope.MaxEnvelopeBytes

	// MaxAckBytes bounds an acknowledgement's body: a signed receipt is
	// under 8 KiB; room for an RSA-3072 signature and a JWE around it.
	MaxAckBytes = 64 << 10

	// MaxPull is the most messages one pull returns: each is a sealed
	// view of up to a few hundred KiB, and a case system files them one by one.
	MaxPull = 100

	// DefaultPull is the number of messages a pull without max returns.
	DefaultPull = 10

	// MaxWait bounds a long-poll: long enough to save most empty polls,
	// short enough for proxies and the server's WriteTimeout.
	MaxWait = 30 * time.Second

	// SubmitTimeout bounds the work on one submission (open, verify,
	// decode, route, commit): the largest police list (2,000 persons) takes
	// about 5 seconds on a busy 2-core machine (TestLargestPoliceListOverHTTP).
	SubmitTimeout = 30 * time.Second

	// AckTimeout bounds the work on one acknowledgement.
	AckTimeout = 10 * time.Second

	// ReadyTimeout bounds a readiness check of the dependencies.
	ReadyTimeout = 3 * time.Second

	// DefaultMaxSubmitsInFlight is Admission.MaxInFlight's default: four
	// submissions per core of this 2-core class of machine; more would only
	// queue for the CPU while holding their bodies in memory.
	DefaultMaxSubmitsInFlight = 8

	// DefaultMaxSubmitsPerSender is Admission.MaxPerSender's default: one
	// authority's client may overlap two submissions (one being answered,
	// one being sent); the other six places stay open to everyone else.
	DefaultMaxSubmitsPerSender = 2

	// RateLimitRetryAfter is the wait a 429 rate-limited or 503 busy
	// suggests: a submission is answered in well under a second, so a
	// place is free again almost at once.
	RateLimitRetryAfter = time.Second
	// MailboxScrapeTimeout bounds the store query behind the mailbox depth
	// gauges at each scrape (one aggregate over the index of waiting
	// messages); past it the scrape goes on without them.
	MailboxScrapeTimeout = 2 * time.Second

	// RetryAfter is the wait a 503 suggests when the cause gives none.
	RetryAfter = 5 * time.Second

	// ReadHeaderTimeout bounds the request line and headers (slowloris).
	ReadHeaderTimeout = 5 * time.Second

	// ReadTimeout bounds reading a whole request, body included: 8 MiB at
	// a slow 1 Mbit/s takes about a minute. A body that stalls past it is
	// answered 408 (request-timeout).
	ReadTimeout = 90 * time.Second

	// WriteTimeout bounds a request from its headers to the end of the
	// answer: the longest read or work plus the longest long-poll.
	WriteTimeout = ReadTimeout + MaxWait + 10*time.Second

	// IdleTimeout closes a keep-alive connection nobody uses.
	IdleTimeout = 120 * time.Second

	// MaxHeaderBytes bounds the request headers: ours are small, a
	// client certificate travels in the handshake, not in a header.
	MaxHeaderBytes = 16 << 10

	// maxDetailBytes bounds a problem's detail sentence.
	maxDetailBytes = 512

	// maxProblems bounds the problems listed in one answer; a batch of
	// 1,000 invalid persons still fits, beyond it the count is given.
	maxProblems = 1000

	// maxProblemFieldBytes bounds a problem's pointer, rule and message.
	maxProblemFieldBytes = 256

	// maxMailboxIDBytes bounds the mailbox id in an ack's path.
	maxMailboxIDBytes = 128

	// maxQueryBytes bounds the query string of a pull.
	maxQueryBytes = 256
)
