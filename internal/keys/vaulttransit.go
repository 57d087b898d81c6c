package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	vault "github.com/hashicorp/vault/api"
)

// keyKind is the family of a transit signing key.
type keyKind int

const (
	kindECDSA keyKind = iota + 1
	kindRSA
	kindEd25519
)

// transitTypes are the transit key types accepted per signing purpose.
var transitTypes = map[Purpose]map[string]keyKind{
	PurposeMessageSigning:    {"ecdsa-p256": kindECDSA},
	PurposeMessageSigningRSA: {"rsa-2048": kindRSA, "rsa-3072": kindRSA, "rsa-4096": kindRSA},
	PurposeJournalCheckpoint: {"ed25519": kindEd25519},
}

// dataKeyTypes are the transit key types accepted for data keys.
var dataKeyTypes = map[string]bool{"aes256-gcm96": true, "chacha20-poly1305": true}

// keyName returns the transit key configured for a signing purpose.
func (p *VaultProvider) keyName(purpose Purpose) string {
	switch purpose {
	case PurposeMessageSigning:
		return p.cfg.SigningKey
	case PurposeMessageSigningRSA:
		return p.cfg.SigningRSAKey
	case PurposeJournalCheckpoint:
		return p.cfg.JournalKey
	}
	return ""
}

// Signer returns a crypto.Signer backed by the transit key of a signing
// purpose (PurposeMessageSigning, PurposeMessageSigningRSA or
// PurposeJournalCheckpoint). The private key never leaves Vault: Public
// comes from transit/keys/NAME, and each Sign is a transit/sign request
// pinned to the key version whose public key the signer holds. Call Signer
// again after rotating the key in Vault.
func (p *VaultProvider) Signer(ctx context.Context, purpose Purpose) (crypto.Signer, error) {
	if !purpose.signing() {
		return nil, fmt.Errorf("%w: %q is not a signing purpose", ErrUnsupported, purpose)
	}
	name := p.keyName(purpose)
	if name == "" {
		return nil, fmt.Errorf("%w: %s: no transit key name in VaultConfig", ErrNotConfigured, purpose)
	}
	path := p.cfg.TransitMount + "/keys/" + name
	s, err := p.client.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, p.vaultError(ctx, "read transit key", path, err)
	}
	if s == nil || s.Data == nil {
		return nil, &VaultError{Address: p.cfg.Address, Op: "read transit key", Path: path, StatusCode: http.StatusNotFound,
			Err: fmt.Errorf("%w: no such transit key", ErrNotConfigured)}
	}
	typ, version, pub, err := parseTransitKey(s.Data)
	if err != nil {
		return nil, &VaultError{Address: p.cfg.Address, Op: "read transit key", Path: path, Err: ErrInvalidKey, Cause: err}
	}
	kind, ok := transitTypes[purpose][typ]
	if !ok {
		return nil, &VaultError{Address: p.cfg.Address, Op: "read transit key", Path: path,
			Err: fmt.Errorf("%w: %s needs a transit key of type %s, not %q", ErrInvalidKey, purpose, typeList(transitTypes[purpose]), typ)}
	}
	if err := checkTransitPublic(kind, pub); err != nil {
		return nil, &VaultError{Address: p.cfg.Address, Op: "read transit key", Path: path, Err: ErrInvalidKey, Cause: err}
	}
	return &TransitSigner{client: p.client, addr: p.cfg.Address, mount: p.cfg.TransitMount, name: name,
		version: version, kind: kind, pub: pub}, nil
}

// typeList names the accepted transit types for messages.
func typeList(m map[string]keyKind) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	return strings.Join(names, " or ")
}

// checkDataKey checks that the data-key transit key exists with a type
// that encrypts.
func (p *VaultProvider) checkDataKey(ctx context.Context) error {
	path := p.cfg.TransitMount + "/keys/" + p.cfg.DataKey
	s, err := p.client.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return p.vaultError(ctx, "read transit key", path, err)
	}
	if s == nil || s.Data == nil {
		return &VaultError{Address: p.cfg.Address, Op: "read transit key", Path: path, StatusCode: http.StatusNotFound,
			Err: fmt.Errorf("%w: no such transit key", ErrNotConfigured)}
	}
	if typ, _ := s.Data["type"].(string); !dataKeyTypes[typ] {
		return &VaultError{Address: p.cfg.Address, Op: "read transit key", Path: path,
			Err: fmt.Errorf("%w: data keys need a transit key of type aes256-gcm96 or chacha20-poly1305, not %q", ErrInvalidKey, typ)}
	}
	return nil
}

// parseTransitKey reads the answer of transit/keys/NAME: the key type,
// the latest version and that version's public key.
func parseTransitKey(data map[string]any) (typ string, version int, pub crypto.PublicKey, err error) {
	typ, _ = data["type"].(string)
	version, err = jsonInt(data["latest_version"])
	if err != nil || version < 1 {
		return "", 0, nil, fmt.Errorf("latest_version: not a positive number")
	}
	versions, _ := data["keys"].(map[string]any)
	entry, _ := versions[strconv.Itoa(version)].(map[string]any)
	pubStr, _ := entry["public_key"].(string)
	if pubStr == "" {
		return "", 0, nil, fmt.Errorf("keys[%d].public_key: missing (a derived key, or not a signing key)", version)
	}
	pub, err = parseTransitPublicKey(pubStr)
	if err != nil {
		return "", 0, nil, fmt.Errorf("keys[%d].public_key: %w", version, err)
	}
	return typ, version, pub, nil
}

// jsonInt reads a number from the Vault client's JSON (json.Number).
func jsonInt(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.Atoi(n.String())
		return i, err
	case float64:
		return int(n), nil
	case int:
		return n, nil
	}
	return 0, fmt.Errorf("not a number: %T", v)
}

// parseTransitPublicKey parses a transit public key: PEM "PUBLIC KEY"
// (PKIX) for ECDSA and RSA keys, standard base64 of the 32 raw bytes for
// Ed25519 keys.
func parseTransitPublicKey(s string) (crypto.PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		blk, rest := pem.Decode([]byte(s))
		if blk == nil || blk.Type != "PUBLIC KEY" || len(strings.TrimSpace(string(rest))) != 0 {
			return nil, errors.New(`want one PEM "PUBLIC KEY" block`)
		}
		return x509.ParsePKIXPublicKey(blk.Bytes)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("neither PEM nor base64 of a 32-byte Ed25519 key")
	}
	return ed25519.PublicKey(raw), nil
}

// checkTransitPublic checks that a public key is of the kind its transit
// type says.
func checkTransitPublic(kind keyKind, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if kind == kindECDSA && k.Curve == elliptic.P256() {
			return nil
		}
	case *rsa.PublicKey:
		if kind == kindRSA {
			return checkRSASize(k.N.BitLen())
		}
	case ed25519.PublicKey:
		if kind == kindEd25519 {
			return nil
		}
	}
	return fmt.Errorf("public key %s does not match the key type", describeKey(pub))
}

// TransitSigner is a crypto.Signer whose private key stays in Vault's
// transit engine. It is pinned to one key version: Public is that
// version's public key and every signature is made with it and checked
// against it before it is returned. It is safe for concurrent use.
type TransitSigner struct {
	client  *vault.Client
	addr    string
	mount   string
	name    string
	version int
	kind    keyKind
	pub     crypto.PublicKey
}

// Public returns the public key of the pinned key version: an
// *ecdsa.PublicKey (P-256), an *rsa.PublicKey or an ed25519.PublicKey.
func (s *TransitSigner) Public() crypto.PublicKey { return s.pub }

// KeyName returns the transit key's name.
func (s *TransitSigner) KeyName() string { return s.name }

// KeyVersion returns the pinned key version.
func (s *TransitSigner) KeyVersion() int { return s.version }

// Sign implements crypto.Signer through transit/sign, bounded by the
// client's request time-out (VaultConfig.RequestTimeout). rand is not
// used: Vault draws its own randomness.
func (s *TransitSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignContext(context.Background(), digest, opts)
}

// SignContext is Sign with a context. ECDSA: digest is a SHA-256, SHA-384
// or SHA-512 hash (opts.HashFunc()), the signature ASN.1 DER. RSA: PSS
// when opts is *rsa.PSSOptions (its salt length is honoured: use
// rsa.PSSSaltLengthEqualsHash for PS256), PKCS #1 v1.5 otherwise. Ed25519:
// digest is the message itself and opts.HashFunc() must be 0.
func (s *TransitSigner) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	suffix, body, err := transitSignRequest(s.kind, s.version, digest, opts)
	if err != nil {
		return nil, err
	}
	path := s.mount + "/sign/" + s.name + suffix
	resp, err := s.client.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return nil, classifyVaultError(ctx, s.addr, "sign", path, err)
	}
	if resp == nil || resp.Data == nil {
		return nil, &VaultError{Address: s.addr, Op: "sign", Path: path, Err: fmt.Errorf("%w: empty answer", ErrVault)}
	}
	str, _ := resp.Data["signature"].(string)
	version, sig, err := parseTransitSignature(str)
	if err != nil {
		return nil, &VaultError{Address: s.addr, Op: "sign", Path: path, Err: ErrVault, Cause: err}
	}
	if version != s.version {
		return nil, &VaultError{Address: s.addr, Op: "sign", Path: path,
			Err: fmt.Errorf("%w: signed with key version %d, want %d", ErrVault, version, s.version)}
	}
	if err := verifyLocal(s.pub, digest, sig, opts); err != nil {
		return nil, &VaultError{Address: s.addr, Op: "sign", Path: path, Err: ErrVault, Cause: err}
	}
	return sig, nil
}

// transitHashNames maps the hashes transit signs with to its names.
var transitHashNames = map[crypto.Hash]string{
	crypto.SHA256: "sha2-256",
	crypto.SHA384: "sha2-384",
	crypto.SHA512: "sha2-512",
}

// transitSignRequest builds a transit/sign request: the path suffix after
// the key name and the body.
func transitSignRequest(kind keyKind, version int, digest []byte, opts crypto.SignerOpts) (string, map[string]any, error) {
	if opts == nil {
		return "", nil, fmt.Errorf("%w: nil signer options", ErrUnsupported)
	}
	h := opts.HashFunc()
	if kind == kindEd25519 {
		if h != 0 {
			return "", nil, fmt.Errorf("%w: Ed25519 signs the message itself (crypto.Hash(0)), not a %s digest", ErrUnsupported, h)
		}
		if o, ok := opts.(*ed25519.Options); ok && o.Context != "" {
			return "", nil, fmt.Errorf("%w: Ed25519ctx", ErrUnsupported)
		}
		return "", map[string]any{
			"input":       base64.StdEncoding.EncodeToString(digest),
			"key_version": version,
		}, nil
	}
	name, ok := transitHashNames[h]
	if !ok {
		return "", nil, fmt.Errorf("%w: hash %s (want SHA-256, SHA-384 or SHA-512)", ErrUnsupported, h)
	}
	if len(digest) != h.Size() {
		return "", nil, fmt.Errorf("%w: digest of %d bytes for %s", ErrUnsupported, len(digest), h)
	}
	body := map[string]any{
		"input":       base64.StdEncoding.EncodeToString(digest),
		"prehashed":   true,
		"key_version": version,
	}
	switch kind {
	case kindECDSA:
		body["marshaling_algorithm"] = "asn1"
	case kindRSA:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			body["signature_algorithm"] = "pss"
			switch {
			case pss.SaltLength == rsa.PSSSaltLengthAuto:
				body["salt_length"] = "auto"
			case pss.SaltLength == rsa.PSSSaltLengthEqualsHash:
				body["salt_length"] = "hash"
			case pss.SaltLength > 0:
				body["salt_length"] = strconv.Itoa(pss.SaltLength)
			default:
				return "", nil, fmt.Errorf("%w: PSS salt length %d", ErrUnsupported, pss.SaltLength)
			}
		} else {
			body["signature_algorithm"] = "pkcs1v15"
		}
	default:
		return "", nil, fmt.Errorf("%w: key kind %d", ErrUnsupported, kind)
	}
	return "/" + name, body, nil
}

// parseTransitSignature parses a transit signature "vault:v<N>:<base64>"
// (standard base64, as transit's default ASN.1 marshaling writes it) into
// the key version and the signature bytes.
func parseTransitSignature(s string) (int, []byte, error) {
	if len(s) > maxVaultSignatureBytes {
		return 0, nil, fmt.Errorf("transit signature longer than %d bytes", maxVaultSignatureBytes)
	}
	version, b64, err := splitTransitValue(s)
	if err != nil {
		return 0, nil, fmt.Errorf("transit signature: %w", err)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(sig) == 0 {
		return 0, nil, errors.New("transit signature: not standard base64")
	}
	return version, sig, nil
}

// splitTransitValue splits "vault:v<N>:<rest>" into N (≥ 1) and rest.
func splitTransitValue(s string) (int, string, error) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	if !ok {
		return 0, "", errors.New(`no "vault:v" prefix`)
	}
	num, payload, ok := strings.Cut(rest, ":")
	if !ok || payload == "" {
		return 0, "", errors.New("no version or no payload")
	}
	if strings.ContainsAny(payload, " \t\r\n") {
		return 0, "", errors.New("white space in the payload")
	}
	if num == "" || len(num) > 9 || strings.TrimLeft(num, "0123456789") != "" || num[0] == '0' {
		return 0, "", fmt.Errorf("version %q is not a positive number", num)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 {
		return 0, "", fmt.Errorf("version %q is not a positive number", num)
	}
	return v, payload, nil
}

// verifyLocal checks a signature against the public key, so that a
// signature made by another key version or mangled on the way is never
// handed out.
func verifyLocal(pub crypto.PublicKey, digest, sig []byte, opts crypto.SignerOpts) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("the ECDSA signature from vault does not verify under the key's public key")
		}
	case *rsa.PublicKey:
		var err error
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			err = rsa.VerifyPSS(k, opts.HashFunc(), digest, sig, &rsa.PSSOptions{SaltLength: pss.SaltLength, Hash: opts.HashFunc()})
		} else {
			err = rsa.VerifyPKCS1v15(k, opts.HashFunc(), digest, sig)
		}
		if err != nil {
			return fmt.Errorf("the RSA signature from vault does not verify under the key's public key: %w", err)
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(k, digest, sig) {
			return errors.New("the Ed25519 signature from vault does not verify under the key's public key")
		}
	default:
		return fmt.Errorf("unexpected public key %T", pub)
	}
	return nil
}

// NewDataKey returns a fresh 256-bit data key from
// transit/datakey/plaintext/NAME and the same key wrapped by Vault (its
// "vault:vN:..." ciphertext, as bytes). Store only the wrapped form; clear
// the plaintext after use.
func (p *VaultProvider) NewDataKey(ctx context.Context) (plaintext, wrapped []byte, err error) {
	path := p.cfg.TransitMount + "/datakey/plaintext/" + p.cfg.DataKey
	resp, err := p.client.Logical().WriteWithContext(ctx, path, map[string]any{"bits": dataKeyBytes * 8})
	if err != nil {
		return nil, nil, p.vaultError(ctx, "new data key", path, err)
	}
	if resp == nil || resp.Data == nil {
		return nil, nil, &VaultError{Address: p.cfg.Address, Op: "new data key", Path: path, Err: fmt.Errorf("%w: empty answer", ErrVault)}
	}
	ct, _ := resp.Data["ciphertext"].(string)
	if _, _, err := splitTransitValue(ct); err != nil {
		return nil, nil, &VaultError{Address: p.cfg.Address, Op: "new data key", Path: path, Err: ErrVault, Cause: fmt.Errorf("ciphertext: %w", err)}
	}
	pt, err := decodeDataKey(resp.Data["plaintext"])
	if err != nil {
		return nil, nil, &VaultError{Address: p.cfg.Address, Op: "new data key", Path: path, Err: ErrVault, Cause: err}
	}
	return pt, []byte(ct), nil
}

// UnwrapDataKey returns the data key inside wrapped (a ciphertext from
// NewDataKey) through transit/decrypt/NAME. A malformed or tampered
// ciphertext gives an error wrapping ErrDataKeyRejected.
func (p *VaultProvider) UnwrapDataKey(ctx context.Context, wrapped []byte) ([]byte, error) {
	path := p.cfg.TransitMount + "/decrypt/" + p.cfg.DataKey
	if len(wrapped) > maxVaultSignatureBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrDataKeyRejected, maxVaultSignatureBytes)
	}
	_, payload, err := splitTransitValue(string(wrapped))
	if err == nil {
		_, err = base64.StdEncoding.Strict().DecodeString(payload)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not a transit ciphertext", ErrDataKeyRejected)
	}
	resp, err := p.client.Logical().WriteWithContext(ctx, path, map[string]any{"ciphertext": string(wrapped)})
	if err != nil {
		e := p.vaultError(ctx, "unwrap data key", path, err)
		// Vault answers 400 to a ciphertext that does not authenticate.
		var ve *VaultError
		if errors.As(e, &ve) && ve.StatusCode == http.StatusBadRequest {
			ve.Err = ErrDataKeyRejected
		}
		return nil, e
	}
	if resp == nil || resp.Data == nil {
		return nil, &VaultError{Address: p.cfg.Address, Op: "unwrap data key", Path: path, Err: fmt.Errorf("%w: empty answer", ErrVault)}
	}
	pt, err := decodeDataKey(resp.Data["plaintext"])
	if err != nil {
		return nil, &VaultError{Address: p.cfg.Address, Op: "unwrap data key", Path: path, Err: ErrDataKeyRejected, Cause: err}
	}
	return pt, nil
}

// decodeDataKey decodes a base64 data key of dataKeyBytes bytes.
func decodeDataKey(v any) ([]byte, error) {
	s, _ := v.(string)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != dataKeyBytes {
		clear(b)
		return nil, fmt.Errorf("plaintext: not base64 of %d bytes", dataKeyBytes)
	}
	return b, nil
}
