// Package gateway_test runs one record through every part that exists so
// far, with the real parts and the development PKI: a municipal crisis team
// signs (XML-DSig) and seals (JWE) a registration to the gateway; the
// gateway opens it, authenticates the signer through the trust store,
// verifies the signature, decodes only the verified element, re-encodes the
// record in a region's format, signs and seals it (JWS in JWE, with
// provenance) to the region's newest encryption certificate; the region
// opens it and answers with a signed receipt the gateway verifies. The
// service will orchestrate exactly these calls.
package gateway_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// storeKeys gives the envelope opener the pinned signing keys of an
// authority from the trust store.
type storeKeys struct{ st *certs.Store }

func (s storeKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	cs, err := s.st.VerificationCertificates(id)
	if err != nil {
		return nil, err
	}
	out := make([]envelope.VerificationKey, 0, len(cs))
	for _, c := range cs {
		k, err := envelope.NewVerificationKey(c.PublicKey, "")
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// gatewayKeys gives the gateway's own signing key to the receiving side.
type gatewayKeys struct{ key envelope.VerificationKey }

func (g gatewayKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	if id != directory.GatewayID {
		return nil, certs.ErrUnknownAuthority
	}
	return []envelope.VerificationKey{g.key}, nil
}

// authorityKey reads an authority's private key of one use from the dev PKI.
func authorityKey(t *testing.T, p certs.Paths, id, use string) crypto.Signer {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(p.Private(id), use+"-*.key.pem"))
	if err != nil || len(m) != 1 {
		t.Fatalf("%s %s key: %v %v", id, use, m, err)
	}
	k, err := certs.ReadKeyFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRecordFlowsThroughEveryPart(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	// One clock for every part; it stands still at now. (The name shadows
	// the clock package, which this test needs only here.)
	clock := clock.Fixed(now)
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	// region:1081 (the first region) gets RSA-3072 keys: the RSA path runs.
	if _, err := certs.InitDevPKI(certs.InitOptions{DataDir: data, Ref: ref, Clock: clock,
		RSA: func(a directory.Authority) bool { return a.ID == "region:1081" }}); err != nil {
		t.Fatal(err)
	}
	ca, _, err := certs.OpenDevCA(data, clock)
	if err != nil {
		t.Fatal(err)
	}
	paths := ca.Paths()
	dir, err := directory.Load(paths.Directory(), ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := certs.NewStore(ca.StoreConfig(), dir)
	if err != nil {
		t.Fatal(err)
	}
	gwKeys, err := keys.NewFileProvider(keys.FileConfig{Dir: paths.Gateway()})
	if err != nil {
		t.Fatal(err)
	}
	v := record.NewValidator(ref, clock)
	muni, err := municipality.New(v)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := region.New(v)
	if err != nil {
		t.Fatal(err)
	}
	const sender, recipient = "municipality:0630", "region:1081"

	// 1. Vejle's crisis team: its own document, signed and sealed to the gateway.
	doc, err := os.ReadFile("../schemas/examples/municipality/valid/kriseteam-aalborg-busulykke-tre-personer.xml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := muni.Decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	in.Header.Sender, in.Header.Recipient = sender, directory.GatewayID
	in.Header.IssuedAt, in.Header.ExpiresAt = now.Add(-time.Minute), now.Add(time.Hour)
	for i := range in.Items {
		in.Items[i].Record.Registered.ByAuthority = sender
		in.Items[i].Record.Consent.Obtained.By.Authority = sender
	}
	unsigned, err := muni.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	senderSigning, err := st.VerificationCertificates(sender)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := xmlsig.SignDocument(unsigned, authorityKey(t, paths, sender, directory.UseSigning), senderSigning[0])
	if err != nil {
		t.Fatal(err)
	}
	gwEncCert := readCert(t, filepath.Join(paths.Gateway(), "encryption.cert.pem"))
	gwEnc, err := envelope.NewEncryptionKey(gwEncCert.PublicKey, "")
	if err != nil {
		t.Fatal(err)
	}
	muniSealer, err := envelope.NewSealer(envelope.SealerConfig{Issuer: sender, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	inbound, err := muniSealer.SealXML(ctx, envelope.Message{ContentType: envelope.ContentTypeMunicipality,
		Recipient: directory.GatewayID, To: gwEnc, Payload: signed, ID: in.Header.MessageID})
	if err != nil {
		t.Fatal(err)
	}

	// 2. The gateway: open, authenticate, verify, decode only the verified element.
	decs, err := gwKeys.Decrypters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gwDec []envelope.DecryptionKey
	for _, d := range decs {
		k, err := envelope.NewDecryptionKey(d, "")
		if err != nil {
			t.Fatal(err)
		}
		gwDec = append(gwDec, k)
	}
	replay, err := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	gwOpener, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: gwDec, Senders: storeKeys{st}, Replay: replay, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	opened, err := gwOpener.OpenXML(ctx, inbound.Envelope, envelope.Expect{Sender: sender, Recipient: directory.GatewayID,
		ContentType: envelope.ContentTypeMunicipality})
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := st.VerificationCertificates(opened.Header.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := xmlsig.NewVerifier(xmlsig.VerifierConfig{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	verified, err := verifier.Verify(opened.Payload, pinned)
	if err != nil {
		t.Fatal(err)
	}
	if who, err := st.Authenticate(verified.Certificate, nil, directory.UseSigning); err != nil || who.AuthorityID != sender {
		t.Fatalf("signer is %+v (%v), want %s", who, err, sender)
	}
	got, err := muni.DecodeElement(verified.Element, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := got.Header; h.Sender != opened.Header.Issuer || h.Recipient != opened.Header.Audience || h.MessageID != opened.Header.ID {
		t.Fatalf("signed header %+v disagrees with the envelope %+v", h, opened.Header)
	}
	recs := got.Records()
	if len(recs) != len(in.Items) {
		t.Fatalf("decoded %d valid records of %d: %+v", len(recs), len(in.Items), got.Items)
	}
	if _, err := gwOpener.OpenXML(ctx, inbound.Envelope, envelope.Expect{Sender: sender, Recipient: directory.GatewayID,
		ContentType: envelope.ContentTypeMunicipality}); err == nil {
		t.Fatal("a replayed envelope was opened twice")
	}

	// 3. The gateway forwards the first record to the region (RSA): JWS in JWE, with provenance.
	regionDoc, err := reg.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: recs[0]}}})
	if err != nil {
		t.Fatal(err)
	}
	gwSigner, err := gwKeys.Signer(ctx, keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	gwSigning, err := envelope.NewSigningKey(gwSigner, "")
	if err != nil {
		t.Fatal(err)
	}
	regionEncCert, err := st.EncryptionCertificate(recipient)
	if err != nil {
		t.Fatal(err)
	}
	if regionEncCert.PublicKeyAlgorithm != x509.RSA {
		t.Fatalf("%s should have an RSA encryption key", recipient)
	}
	regionEnc, err := envelope.NewEncryptionKey(regionEncCert.PublicKey, "")
	if err != nil {
		t.Fatal(err)
	}
	gwSealer, err := envelope.NewSealer(envelope.SealerConfig{Issuer: directory.GatewayID, Key: gwSigning, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	outbound, err := gwSealer.Seal(ctx, envelope.Message{Kind: envelope.KindRegistration, ContentType: envelope.ContentTypeRegion,
		Recipient: recipient, To: regionEnc, Payload: regionDoc,
		Provenance: &envelope.Provenance{Issuer: sender, ID: opened.Header.ID, Digest: opened.Digest}})
	if err != nil {
		t.Fatal(err)
	}

	// 4. The region opens it with its own key and acknowledges with a signed receipt.
	regionDecKey, err := envelope.NewDecryptionKey(authorityKey(t, paths, recipient, directory.UseEncryption), "")
	if err != nil {
		t.Fatal(err)
	}
	regionReplay, _ := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: clock})
	regionOpener, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: []envelope.DecryptionKey{regionDecKey},
		Senders: gatewayKeys{gwSigning.VerificationKey()}, Replay: regionReplay, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	delivered, err := regionOpener.Open(ctx, outbound.Envelope, envelope.Expect{Sender: directory.GatewayID, Recipient: recipient,
		Kinds: []envelope.Kind{envelope.KindRegistration}, ContentType: envelope.ContentTypeRegion})
	if err != nil {
		t.Fatal(err)
	}
	if p := delivered.Header.Provenance; p == nil || p.Issuer != sender || p.Digest != opened.Digest {
		t.Fatalf("provenance lost: %+v", p)
	}
	atRegion, err := reg.Decode(delivered.Payload)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := record.MarshalCanonical(recs[0])
	c2, _ := record.MarshalCanonical(atRegion.Records()[0])
	if string(c1) != string(c2) {
		t.Fatalf("the record changed on its way:\n%s\n%s", c1, c2)
	}
	regionSigning, err := envelope.NewSigningKey(authorityKey(t, paths, recipient, directory.UseSigning), "")
	if err != nil {
		t.Fatal(err)
	}
	regionSealer, err := envelope.NewSealer(envelope.SealerConfig{Issuer: recipient, Key: regionSigning, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	receipt, _, err := regionSealer.SignReceipt(ctx, envelope.Receipt{MessageID: delivered.Header.ID, PayloadDigest: delivered.Digest,
		Sender: directory.GatewayID, Recipient: recipient, Time: now, Outcome: envelope.OutcomeReceived})
	if err != nil {
		t.Fatal(err)
	}
	r, err := gwOpener.VerifyReceipt(ctx, receipt, recipient)
	if err != nil {
		t.Fatal(err)
	}
	if r.PayloadDigest != outbound.Digest || r.MessageID != outbound.Header.ID {
		t.Fatalf("receipt %+v does not acknowledge %s", r, outbound.Header.ID)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParsePEMCertificates(b)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}
