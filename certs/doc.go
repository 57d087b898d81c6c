// Package certs will hold trust: the trust store of authority certificates,
// certificate-to-authority identity (OCES3 organizationIdentifier and
// serialNumber), revocation, and the development CA. It is built by the
// trust-and-envelopes issue; this file reserves the top-level folder.
package certs
