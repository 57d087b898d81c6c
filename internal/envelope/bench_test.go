package envelope

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// record2KB is a 2 KB stand-in for a region registration document.
var record2KB = func() []byte {
	b := []byte(`{"schema":"region-registration/v1","records":[{"notes":"`)
	b = append(b, bytes.Repeat([]byte("x"), 2048-len(b)-4)...)
	return append(b, `"}]}`...)
}()

// nopReplay accepts every id, so that one envelope can be opened b.N times.
type nopReplay struct{}

func (nopReplay) Seen(context.Context, string, string, time.Time) (bool, error) { return false, nil }

func benchSuites(b *testing.B) map[string]*suite {
	return map[string]*suite{
		"ES256+ECDH-ES+A256KW":        ecSuite(b),
		"PS256+RSA-OAEP-256+RSA-3072": rsaSuite(b),
	}
}

func BenchmarkSeal(b *testing.B) {
	for name, s := range benchSuites(b) {
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, s)
			msg := Message{Kind: KindRegistration, ContentType: ContentTypeRegion, Recipient: recipient, To: w.dec.EncryptionKey(), Payload: record2KB}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.sealer.Seal(context.Background(), msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for name, s := range benchSuites(b) {
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, s)
			sealed, err := w.sealer.Seal(context.Background(), Message{Kind: KindRegistration, ContentType: ContentTypeRegion, Recipient: recipient, To: w.dec.EncryptionKey(), Payload: record2KB})
			if err != nil {
				b.Fatal(err)
			}
			o, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, Replay: nopReplay{}, Clock: w.clock})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(sealed.Envelope)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := o.Open(context.Background(), sealed.Envelope, w.expect); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMemoryReplayCacheSeen(b *testing.B) {
	clock := newClock()
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: clock, MaxEntries: 1 << 30, MaxPerIssuer: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = uuid(b)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A fresh id per call, expiring as Open's would; the clock moves so
		// that the sweep runs as it does in service.
		if i%len(ids) == 0 {
			clock.Advance(10 * time.Minute)
		}
		if _, err := c.Seen(context.Background(), sender, ids[i%len(ids)], clock.Now().Add(2*time.Minute)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
