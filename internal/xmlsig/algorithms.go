package xmlsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	dsig "github.com/russellhaering/goxmldsig"
)

// The algorithm identifiers of the profile (XML-DSig 1.1, RFC 6931).
const (
	// namespaceDSig is the XML-DSig namespace.
	namespaceDSig = dsig.Namespace
	// algExcC14N is exclusive XML canonicalisation 1.0 without comments.
	algExcC14N = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
	// algEnveloped is the enveloped-signature transform.
	algEnveloped = string(dsig.EnvelopedSignatureAltorithmId)
	// algSHA256 is the SHA-256 digest method.
	algSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	// algSHA384 is the SHA-384 digest method.
	algSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	// algSHA512 is the SHA-512 digest method.
	algSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

// idAttr is the name of the root's ID attribute in all our XML formats.
const idAttr = "ID"

// signatureMethod says which key family and hash an allowed SignatureMethod
// URI means. SHA-1 and anything unknown are not allowed.
func signatureMethod(uri string) (x509.PublicKeyAlgorithm, crypto.Hash, bool) {
	switch uri {
	case dsig.RSASHA256SignatureMethod:
		return x509.RSA, crypto.SHA256, true
	case dsig.RSASHA384SignatureMethod:
		return x509.RSA, crypto.SHA384, true
	case dsig.RSASHA512SignatureMethod:
		return x509.RSA, crypto.SHA512, true
	case dsig.ECDSASHA256SignatureMethod:
		return x509.ECDSA, crypto.SHA256, true
	case dsig.ECDSASHA384SignatureMethod:
		return x509.ECDSA, crypto.SHA384, true
	case dsig.ECDSASHA512SignatureMethod:
		return x509.ECDSA, crypto.SHA512, true
	}
	return x509.UnknownPublicKeyAlgorithm, 0, false
}

// digestMethod says which hash an allowed DigestMethod URI means. SHA-1
// and anything unknown are not allowed.
func digestMethod(uri string) (crypto.Hash, bool) {
	switch uri {
	case algSHA256:
		return crypto.SHA256, true
	case algSHA384:
		return crypto.SHA384, true
	case algSHA512:
		return crypto.SHA512, true
	}
	return 0, false
}

// keyInfo describes a public key the profile can use.
type keyInfo struct {
	// family is x509.RSA or x509.ECDSA.
	family x509.PublicKeyAlgorithm
	// size is the length in bytes of a raw signature value: the modulus for
	// RSA, r||s (twice the coordinate size) for ECDSA.
	size int
}

// describeKey checks that pub is an RSA key of minRSABits to maxRSABits or
// an ECDSA key on P-256, P-384 or P-521, and describes it.
func describeKey(pub crypto.PublicKey) (keyInfo, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		if bits < minRSABits || bits > maxRSABits {
			return keyInfo{}, fmt.Errorf("%w: RSA key of %d bits (allowed %d to %d)", ErrUnsupportedKey, bits, minRSABits, maxRSABits)
		}
		return keyInfo{family: x509.RSA, size: (bits + 7) / 8}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return keyInfo{family: x509.ECDSA, size: 2 * coordinateSize(k.Curve)}, nil
		}
		return keyInfo{}, fmt.Errorf("%w: ECDSA curve not allowed (P-256, P-384, P-521)", ErrUnsupportedKey)
	}
	return keyInfo{}, fmt.Errorf("%w: %T (RSA or ECDSA only)", ErrUnsupportedKey, pub)
}

// coordinateSize is the length in bytes of one of r and s on curve.
func coordinateSize(curve elliptic.Curve) int {
	return (curve.Params().BitSize + 7) / 8
}
