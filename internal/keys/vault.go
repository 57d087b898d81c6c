package keys

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/psykosocial/exchange/internal/clock"
)

// VaultConfig configures a [VaultProvider]. Zero values take the defaults
// of withDefaults; Address, a token (Token or TokenFile) and Clock are
// required.
//
// What the provider expects in Vault:
//
//   - transit keys (in TransitMount): SigningKey of type ecdsa-p256,
//     SigningRSAKey (optional) of type rsa-2048, rsa-3072 or rsa-4096,
//     JournalKey of type ed25519, DataKey of type aes256-gcm96 (or
//     chacha20-poly1305);
//   - a KV v2 secret at DecryptionKeysPath (in KVMount) with the field
//     "current" (PEM PKCS #8, P-256 or RSA) and, during a rollover, the
//     field "previous";
//   - a KV v2 secret at HMACSecretPath with the field "secret": standard
//     base64 of 32 to 1024 random bytes.
//
// The token's policy needs: read on TransitMount/keys/<each key>, update on
// TransitMount/sign/<signing keys>/*, TransitMount/datakey/plaintext/<DataKey>
// and TransitMount/decrypt/<DataKey>, read on KVMount/data/<both paths>; the
// default policy (token lookup-self and renew-self) for renewal.
type VaultConfig struct {
	// Address is the Vault server's URL, e.g. "https://vault.internal:8200".
	// It must be https, except on a loopback address (a local Vault Agent).
	Address string
	// Token is the Vault token. Either Token or TokenFile.
	Token string
	// TokenFile is a file holding the token, e.g. a Vault Agent sink. It
	// must not be readable by group or others; it is read at start and
	// again whenever the token can no longer be renewed.
	TokenFile string
	// Namespace is the Vault Enterprise namespace; empty for none.
	Namespace string
	// TransitMount is the transit engine's mount path. Default "transit".
	TransitMount string
	// KVMount is the KV version 2 engine's mount path. Default "secret".
	KVMount string
	// SigningKey is the transit key for PurposeMessageSigning (ecdsa-p256).
	// Default "gateway-signing".
	SigningKey string
	// SigningRSAKey is the transit key for PurposeMessageSigningRSA (rsa-*).
	// Default empty: not configured.
	SigningRSAKey string
	// JournalKey is the transit key for PurposeJournalCheckpoint (ed25519).
	// Default "gateway-journal".
	JournalKey string
	// DataKey is the transit key that makes and unwraps data keys
	// (aes256-gcm96). Default "gateway-data".
	DataKey string
	// DecryptionKeysPath is the KV v2 path of the message-decryption keys
	// (fields "current" and "previous"). Default "gateway/message-decryption".
	DecryptionKeysPath string
	// HMACSecretPath is the KV v2 path of the journal's HMAC secret (field
	// "secret"). Default "gateway/journal-hmac".
	HMACSecretPath string
	// CACertFile is a PEM file of the CA certificates that verify Vault's
	// TLS certificate. Empty means the system roots (and CACertPEM).
	CACertFile string
	// CACertPEM is like CACertFile, given inline.
	CACertPEM []byte
	// TLSServerName overrides the server name checked in Vault's certificate.
	TLSServerName string
	// DialTimeout bounds connecting to Vault. Default 5 s.
	DialTimeout time.Duration
	// RequestTimeout bounds each request to Vault, retries included.
	// Default 10 s.
	RequestTimeout time.Duration
	// MaxRetries is how often a request is retried after a connection
	// error or a 5xx answer. Default 0: no retries (callers retry).
	MaxRetries int
	// TokenFilePoll is how often TokenFile is read again once the token
	// can no longer be renewed. Default 10 s.
	TokenFilePoll time.Duration
	// Clock paces the reading of TokenFile. Required: clock.System() in
	// the binary, a fake in tests. (The Vault client library's own
	// renewal timers follow the wall clock, as Vault's TTLs do.)
	Clock clock.Clock
	// Logger receives what the provider does (paths and key names, never
	// tokens or key material). Nil discards.
	Logger *slog.Logger
}

// withDefaults returns c with every unset field at its default.
func (c VaultConfig) withDefaults() VaultConfig {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.TransitMount, "transit")
	def(&c.KVMount, "secret")
	def(&c.SigningKey, "gateway-signing")
	def(&c.JournalKey, "gateway-journal")
	def(&c.DataKey, "gateway-data")
	def(&c.DecryptionKeysPath, "gateway/message-decryption")
	def(&c.HMACSecretPath, "gateway/journal-hmac")
	c.TransitMount = strings.Trim(c.TransitMount, "/")
	c.KVMount = strings.Trim(c.KVMount, "/")
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.TokenFilePoll <= 0 {
		c.TokenFilePoll = 10 * time.Second
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate checks c once, at start.
func (c VaultConfig) validate() error {
	u, err := url.Parse(c.Address)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%w: VaultConfig.Address %q is not an http(s) URL", ErrNotConfigured, c.Address)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return fmt.Errorf("%w: VaultConfig.Address %q: plain http is allowed only on a loopback address", ErrNotConfigured, c.Address)
	}
	if (c.Token == "") == (c.TokenFile == "") {
		return fmt.Errorf("%w: set exactly one of VaultConfig.Token and VaultConfig.TokenFile", ErrNotConfigured)
	}
	if c.Clock == nil {
		return fmt.Errorf("%w: VaultConfig.Clock is nil", ErrNotConfigured)
	}
	return nil
}

// loopbackHost reports whether host is localhost or a loopback IP.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// VaultProvider serves keys from HashiCorp Vault: transit signs and makes
// data keys (those keys never leave Vault), KV v2 holds the
// message-decryption keys and the HMAC secret, which are loaded into memory
// at start and never written to disk. A renewable token is renewed in the
// background until the context given to NewVaultProvider ends or Close is
// called. It is safe for concurrent use.
type VaultProvider struct {
	cfg    VaultConfig
	client *vault.Client
	log    *slog.Logger

	mu         sync.RWMutex
	decrypters []crypto.PrivateKey // current first
	hmac       []byte

	stop     context.CancelFunc
	done     chan struct{}
	closeMu  sync.Mutex
	isClosed bool
}

// NewVaultProvider connects to Vault and loads what the gateway needs: it
// checks sys/health (a sealed Vault gives an error wrapping ErrVaultSealed,
// no answer ErrVaultUnreachable naming the address), looks the token up,
// reads the KV secrets, and checks that every configured transit key
// exists with the right type (a refusal gives ErrVaultPermission naming the
// path).
//
// ctx is the provider's lifetime: the token renewal runs until it ends (or
// Close). Pass the service's context, not a start-up time-out; each request
// is already bounded by VaultConfig.RequestTimeout.
func NewVaultProvider(ctx context.Context, cfg VaultConfig) (*VaultProvider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	token := cfg.Token
	if cfg.TokenFile != "" {
		t, err := readTokenFile(cfg.TokenFile)
		if err != nil {
			return nil, err
		}
		token = t
	}
	client, err := newVaultClient(cfg)
	if err != nil {
		return nil, err
	}
	client.SetToken(token)

	p := &VaultProvider{cfg: cfg, client: client, log: cfg.Logger.With(slog.String("provider", "vault"), slog.String("vault", cfg.Address))}
	if err := p.Health(ctx); err != nil {
		return nil, err
	}
	self, err := p.lookupSelf(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Reload(ctx); err != nil {
		return nil, err
	}
	for _, pur := range []Purpose{PurposeMessageSigning, PurposeMessageSigningRSA, PurposeJournalCheckpoint} {
		if _, err := p.Signer(ctx, pur); err != nil && !errors.Is(err, ErrNotConfigured) {
			return nil, err
		}
	}
	if err := p.checkDataKey(ctx); err != nil {
		return nil, err
	}

	rctx, stop := context.WithCancel(ctx)
	p.stop, p.done = stop, make(chan struct{})
	go p.renewLoop(rctx, self)
	return p, nil
}

// newVaultClient builds the Vault client from cfg alone: the transport,
// time-outs, retries, TLS roots and namespace are set here, so that the
// VAULT_* environment variables the client library reads do not change
// where the gateway connects or how it trusts.
func newVaultClient(cfg VaultConfig) (*vault.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
	if cfg.CACertFile != "" || len(cfg.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if cfg.CACertFile != "" {
			b, err := os.ReadFile(cfg.CACertFile)
			if err != nil {
				return nil, fmt.Errorf("%w: VaultConfig.CACertFile: %w", ErrNotConfigured, err)
			}
			if !pool.AppendCertsFromPEM(b) {
				return nil, fmt.Errorf("%w: VaultConfig.CACertFile %s holds no PEM certificate", ErrNotConfigured, cfg.CACertFile)
			}
		}
		if len(cfg.CACertPEM) > 0 && !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, fmt.Errorf("%w: VaultConfig.CACertPEM holds no PEM certificate", ErrNotConfigured)
		}
		tlsConf.RootCAs = pool
	}
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	hc := &http.Client{
		Transport: transport,
		// The Vault client handles redirects itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	client, err := vault.NewClient(&vault.Config{
		Address:    cfg.Address,
		HttpClient: hc,
		Timeout:    cfg.RequestTimeout,
		MaxRetries: cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("keys: vault client for %s: %w", cfg.Address, err)
	}
	client.ClearNamespace()
	if cfg.Namespace != "" {
		client.SetNamespace(cfg.Namespace)
	}
	return client, nil
}

// readTokenFile reads a Vault token file, refusing one that group or
// others may read.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", &FileError{Path: path, Reason: "vault token file", Err: ErrNotConfigured, Cause: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", &FileError{Path: path, Reason: "vault token file", Err: ErrNotConfigured, Cause: err}
	}
	if !fi.Mode().IsRegular() {
		return "", &FileError{Path: path, Reason: "vault token file is not a regular file", Err: ErrInsecureFile}
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", &FileError{Path: path, Mode: perm,
			Reason: fmt.Sprintf("vault token file is readable or writable by group or others (mode %04o); chmod 600 it", perm), Err: ErrInsecureFile}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFileBytes+1))
	if err != nil {
		return "", &FileError{Path: path, Reason: "vault token file", Err: ErrNotConfigured, Cause: err}
	}
	t := strings.TrimSpace(string(b))
	if t == "" || len(b) > maxTokenFileBytes || strings.ContainsAny(t, " \t\r\n") {
		return "", &FileError{Path: path, Reason: "vault token file does not hold one token", Err: ErrInvalidKey}
	}
	return t, nil
}

// Health checks sys/health: nil when Vault is initialised and unsealed,
// else an error wrapping ErrVaultSealed, ErrVaultUnreachable or ErrVault.
// A readiness endpoint can call it.
func (p *VaultProvider) Health(ctx context.Context) error {
	h, err := p.client.Sys().HealthWithContext(ctx)
	if err != nil {
		return p.vaultError(ctx, "health", "sys/health", err)
	}
	switch {
	case !h.Initialized:
		return &VaultError{Address: p.cfg.Address, Op: "health", Path: "sys/health", Err: fmt.Errorf("%w: not initialised", ErrVault)}
	case h.Sealed:
		return &VaultError{Address: p.cfg.Address, Op: "health", Path: "sys/health", Err: ErrVaultSealed}
	}
	return nil
}

// lookupSelf returns the token's own description.
func (p *VaultProvider) lookupSelf(ctx context.Context) (*vault.Secret, error) {
	s, err := p.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, p.vaultError(ctx, "token lookup", "auth/token/lookup-self", err)
	}
	if s == nil || s.Data == nil {
		return nil, &VaultError{Address: p.cfg.Address, Op: "token lookup", Path: "auth/token/lookup-self", Err: fmt.Errorf("%w: empty answer", ErrVault)}
	}
	return s, nil
}

// Reload reads the KV secrets again (the message-decryption keys and the
// HMAC secret) and, if they are valid, replaces those in memory; otherwise
// it keeps them and returns the error. Call it after a rollover in KV.
func (p *VaultProvider) Reload(ctx context.Context) error {
	keysData, err := p.readKV(ctx, p.cfg.DecryptionKeysPath)
	if err != nil {
		return err
	}
	var decs []crypto.PrivateKey
	for _, field := range []string{"current", "previous"} {
		v, ok := keysData[field]
		if !ok || v == nil || v == "" {
			if field == "current" {
				return p.kvError(p.cfg.DecryptionKeysPath, `no field "current" (PEM PKCS #8 private key)`)
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return p.kvError(p.cfg.DecryptionKeysPath, fmt.Sprintf("field %q is not a string", field))
		}
		k, err := parsePKCS8([]byte(s))
		if err == nil {
			_, err = checkPrivate(PurposeMessageDecryption, k)
		}
		if err != nil {
			return &VaultError{Address: p.cfg.Address, Op: "read KV", Path: p.kvPath(p.cfg.DecryptionKeysPath),
				Err: fmt.Errorf("%w: field %q", ErrInvalidKey, field), Cause: err}
		}
		decs = append(decs, k)
	}

	hmacData, err := p.readKV(ctx, p.cfg.HMACSecretPath)
	if err != nil {
		return err
	}
	s, ok := hmacData["secret"].(string)
	if !ok {
		return p.kvError(p.cfg.HMACSecretPath, `no string field "secret" (base64 of 32 to 1024 random bytes)`)
	}
	sec, err := parseSecret([]byte(s), minHMACSecretBytes, maxHMACSecretBytes)
	if err != nil {
		return &VaultError{Address: p.cfg.Address, Op: "read KV", Path: p.kvPath(p.cfg.HMACSecretPath),
			Err: fmt.Errorf("%w: field \"secret\"", ErrInvalidKey), Cause: err}
	}

	p.mu.Lock()
	clear(p.hmac) // readers copy it under the read lock
	p.decrypters, p.hmac = decs, sec
	p.mu.Unlock()
	p.log.LogAttrs(ctx, slog.LevelInfo, "keys loaded from vault KV",
		slog.String("decryption_keys_path", p.kvPath(p.cfg.DecryptionKeysPath)), slog.Int("decryption_keys", len(decs)),
		slog.String("hmac_secret_path", p.kvPath(p.cfg.HMACSecretPath)))
	return nil
}

// kvPath is the API path of a KV v2 secret.
func (p *VaultProvider) kvPath(path string) string {
	return p.cfg.KVMount + "/data/" + strings.Trim(path, "/")
}

// kvError is an unusable KV secret.
func (p *VaultProvider) kvError(path, reason string) error {
	return &VaultError{Address: p.cfg.Address, Op: "read KV", Path: p.kvPath(path), Err: fmt.Errorf("%w: %s", ErrInvalidKey, reason)}
}

// readKV returns the data of the latest version of a KV v2 secret.
func (p *VaultProvider) readKV(ctx context.Context, path string) (map[string]any, error) {
	s, err := p.client.KVv2(p.cfg.KVMount).Get(ctx, strings.Trim(path, "/"))
	if errors.Is(err, vault.ErrSecretNotFound) {
		return nil, &VaultError{Address: p.cfg.Address, Op: "read KV", Path: p.kvPath(path), StatusCode: http.StatusNotFound,
			Err: fmt.Errorf("%w: no such secret", ErrNotConfigured)}
	}
	if err != nil {
		return nil, p.vaultError(ctx, "read KV", p.kvPath(path), err)
	}
	if s == nil || s.Data == nil {
		return nil, &VaultError{Address: p.cfg.Address, Op: "read KV", Path: p.kvPath(path),
			Err: fmt.Errorf("%w: the latest version is deleted", ErrNotConfigured)}
	}
	return s.Data, nil
}

// Decrypters returns the message-decryption private keys from KV, current
// first, then the previous one during a rollover. Each is an
// *ecdsa.PrivateKey (P-256) or an *rsa.PrivateKey.
func (p *VaultProvider) Decrypters(ctx context.Context) ([]crypto.PrivateKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.decrypters) == 0 {
		return nil, fmt.Errorf("%w: %s (provider closed)", ErrNotConfigured, PurposeMessageDecryption)
	}
	return slices.Clone(p.decrypters), nil
}

// HMACSecret returns a copy of the journal's HMAC secret from KV.
func (p *VaultProvider) HMACSecret(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.hmac == nil {
		return nil, fmt.Errorf("%w: %s (provider closed)", ErrNotConfigured, PurposeJournalHMAC)
	}
	return slices.Clone(p.hmac), nil
}

// Close stops the token renewal and clears the secrets held in memory.
// It does not revoke the token.
func (p *VaultProvider) Close() error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.isClosed {
		return nil
	}
	p.isClosed = true
	if p.stop != nil {
		p.stop()
		<-p.done
	}
	p.mu.Lock()
	clear(p.hmac)
	p.hmac, p.decrypters = nil, nil
	p.mu.Unlock()
	return nil
}

// vaultError classifies an error of the Vault client.
func (p *VaultProvider) vaultError(ctx context.Context, op, path string, err error) error {
	return classifyVaultError(ctx, p.cfg.Address, op, path, err)
}

// classifyVaultError turns an error of the Vault client into a
// *VaultError with the right sentinel: ErrVaultPermission for 403,
// ErrVaultSealed for 503 "Vault is sealed", ErrVaultUnreachable for no
// answer at all, ErrVault otherwise. A cancelled ctx is returned as is.
func classifyVaultError(ctx context.Context, addr, op, path string, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return fmt.Errorf("keys: vault %s %s: %w", op, path, err)
	}
	ve := &VaultError{Address: addr, Op: op, Path: path, Err: ErrVault, Cause: err}
	var re *vault.ResponseError
	if errors.As(err, &re) {
		ve.StatusCode = re.StatusCode
		switch {
		case re.StatusCode == http.StatusForbidden:
			ve.Err = ErrVaultPermission
		case re.StatusCode == http.StatusServiceUnavailable && sealedMessage(re.Errors):
			ve.Err = ErrVaultSealed
		}
		return ve
	}
	var (
		netErr net.Error
		urlErr *url.Error
	)
	if errors.As(err, &netErr) || errors.As(err, &urlErr) || errors.Is(err, context.DeadlineExceeded) {
		ve.Err = ErrVaultUnreachable
	}
	return ve
}

// sealedMessage reports whether Vault's error messages say it is sealed
// (its 503 answers carry "Vault is sealed"; a standby answers 503 too).
func sealedMessage(msgs []string) bool {
	for _, m := range msgs {
		if strings.Contains(strings.ToLower(m), "sealed") {
			return true
		}
	}
	return false
}
