package pipeline

import (
	"errors"
	"time"

	"github.com/psykosocial/exchange/internal/envelope"
)

// Limits bound the pipeline's work. The zero value of every field is its
// default; withDefaults applies them and refuses what does not hold.
type Limits struct {
	// Lease is how long a pulled mailbox message waits for its ack before
	// it is delivered again; 0 means 5 minutes (a case system files a
	// message in seconds).
	Lease time.Duration
	// DeliveryLifetime is exp - iat of a sealed delivery; 0 means 5
	// minutes, the most envelope.MaxLifetime allows ("a sealed message
	// lives at most 5 minutes").
	DeliveryLifetime time.Duration
	// MaxPull bounds the messages of one pull; 0 means 100.
	MaxPull int
	// MaxWait bounds a long-poll; 0 means 60 seconds.
	MaxWait time.Duration
	// PollInterval is how often a long-poll asks the store again, for
	// messages committed by another replica; 0 means 2 seconds.
	PollInterval time.Duration
	// MaxXMLLifetime caps the signed lifetime (expires-at - issued-at) of
	// an XML message, which bounds how long its replay row lives; 0 means
	// 24 hours (the store's cap, store.Config.MaxLifetime, must be at least
	// as long).
	MaxXMLLifetime time.Duration
	// Leeway is the clock skew tolerated for the signed XML times; 0 means
	// envelope.DefaultLeeway.
	Leeway time.Duration
	// CeasedGrace is how long after it ceased an authority may still send
	// what it registered before; 0 means directory.DefaultCeasedGrace.
	CeasedGrace time.Duration
}

// Defaults, one line of reason each.
const (
	// defaultLease: a case system files a message in seconds; five
	// minutes covers a slow one without delaying redelivery long.
	defaultLease = 5 * time.Minute
	// defaultDeliveryLifetime: a sealed message lives at most 5 minutes.
	defaultDeliveryLifetime = envelope.MaxLifetime
	// defaultMaxPull: one page of a mailbox, well under the store's 500.
	defaultMaxPull = 100
	// maxPullLimit is the store's bound on one pull.
	maxPullLimit = 500
	// defaultMaxWait: a long-poll shorter than common proxy time-outs.
	defaultMaxWait = 60 * time.Second
	// defaultPollInterval: how stale a replica's long-poll may be.
	defaultPollInterval = 2 * time.Second
	// defaultMaxXMLLifetime: the store's default replay horizon.
	defaultMaxXMLLifetime = 24 * time.Hour
	// maxJournalQuery bounds the earlier decisions read for one record.
	maxJournalQuery = 1000
)

func (l Limits) withDefaults() (Limits, error) {
	if l.Lease < 0 || l.DeliveryLifetime < 0 || l.MaxPull < 0 || l.MaxWait < 0 || l.PollInterval < 0 ||
		l.MaxXMLLifetime < 0 || l.Leeway < 0 {
		return l, errors.New("pipeline: Limits must not be negative")
	}
	if l.Lease == 0 {
		l.Lease = defaultLease
	}
	if l.DeliveryLifetime == 0 {
		l.DeliveryLifetime = defaultDeliveryLifetime
	}
	if l.MaxPull == 0 {
		l.MaxPull = defaultMaxPull
	}
	if l.MaxWait == 0 {
		l.MaxWait = defaultMaxWait
	}
	if l.PollInterval == 0 {
		l.PollInterval = defaultPollInterval
	}
	if l.MaxXMLLifetime == 0 {
		l.MaxXMLLifetime = defaultMaxXMLLifetime
	}
	if l.Leeway == 0 {
		l.Leeway = envelope.DefaultLeeway
	}
	switch {
	case l.DeliveryLifetime > envelope.MaxLifetime:
		return l, errors.New("pipeline: Limits.DeliveryLifetime exceeds envelope.MaxLifetime")
	case l.MaxPull > maxPullLimit:
		return l, errors.New("pipeline: Limits.MaxPull exceeds the store's 500")
	case l.Lease > 24*time.Hour:
		return l, errors.New("pipeline: Limits.Lease exceeds the store's 24 hours")
	}
	return l, nil
}
