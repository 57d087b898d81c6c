package envelope_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
)

// pinned is a trust store of one authority's keys.
type pinned map[string][]envelope.VerificationKey

func (p pinned) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	return p[id], nil
}

// A region seals a registration for the gateway; the gateway opens it,
// knowing from mTLS that region:1081 sent it.
func Example() {
	ctx := context.Background()
	clk := clock.Fixed(time.Date(2026, 11, 25, 13, 30, 0, 0, time.UTC))

	regionPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	gatewayPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	regionKey, _ := envelope.NewSigningKey(regionPriv, "")
	gatewayDec, _ := envelope.NewDecryptionKey(gatewayPriv, "")

	sealer, _ := envelope.NewSealer(envelope.SealerConfig{Issuer: "region:1081", Key: regionKey, Clock: clk})
	sealed, err := sealer.Seal(ctx, envelope.Message{
		Kind:        envelope.KindRegistration,
		ContentType: envelope.ContentTypeRegion,
		Recipient:   envelope.GatewayID,
		To:          gatewayDec.EncryptionKey(),
		Payload:     []byte(`{"records":[]}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	replay, _ := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: clk})
	opener, _ := envelope.NewOpener(envelope.OpenerConfig{
		DecryptionKeys: []envelope.DecryptionKey{gatewayDec},
		Senders:        pinned{"region:1081": {regionKey.VerificationKey()}},
		Replay:         replay,
		Clock:          clk,
	})
	expect := envelope.Expect{
		Sender:      "region:1081", // the mTLS identity
		Recipient:   envelope.GatewayID,
		Kinds:       []envelope.Kind{envelope.KindRegistration, envelope.KindWithdrawal},
		ContentType: envelope.ContentTypeRegion,
	}
	opened, err := opener.Open(ctx, sealed.Envelope, expect)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(opened.Header.Kind, opened.Sender, string(opened.Payload))

	_, err = opener.Open(ctx, sealed.Envelope, expect)
	fmt.Println(err)
	// Output:
	// registration region:1081 {"records":[]}
	// envelope: replay: replayed message: this message id was seen before
}
