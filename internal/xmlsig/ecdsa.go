package xmlsig

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// ecdsaDER is the ASN.1 structure of an ECDSA signature (RFC 3279 section
// 2.2.3), what crypto.Signer returns and goxmldsig expects.
type ecdsaDER struct {
	R, S *big.Int
}

// rawECDSASigner wraps the crypto.Signer of an ECDSA key so that its
// signatures come out as r||s, each coordinateSize bytes, as XML-DSig
// requires. The wrapped Signer must follow the crypto.Signer convention
// for ECDSA and return ASN.1 DER.
type rawECDSASigner struct {
	crypto.Signer
	// half is the length of r (and of s) in bytes.
	half int
}

// Sign implements crypto.Signer.
func (s rawECDSASigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	der, err := s.Signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, err
	}
	raw, err := derToRaw(der, s.half)
	if err != nil {
		return nil, fmt.Errorf("xmlsig: the ECDSA signer returned no ASN.1 DER signature: %w", err)
	}
	return raw, nil
}

// derToRaw re-encodes an ASN.1 DER ECDSA signature as r||s, each half bytes.
func derToRaw(der []byte, half int) ([]byte, error) {
	var sig ecdsaDER
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing bytes after the signature")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 8*half || sig.S.BitLen() > 8*half {
		return nil, errors.New("r or s out of range for the curve")
	}
	raw := make([]byte, 2*half)
	sig.R.FillBytes(raw[:half])
	sig.S.FillBytes(raw[half:])
	return raw, nil
}

// rawToDER re-encodes an r||s ECDSA signature of exactly 2*half bytes as
// ASN.1 DER.
func rawToDER(raw []byte, half int) ([]byte, error) {
	if len(raw) != 2*half {
		return nil, fmt.Errorf("ECDSA signature value is %d bytes, r||s for this curve is %d", len(raw), 2*half)
	}
	return asn1.Marshal(ecdsaDER{
		R: new(big.Int).SetBytes(raw[:half]),
		S: new(big.Int).SetBytes(raw[half:]),
	})
}
