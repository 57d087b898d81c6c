package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/storeconfig"
	"github.com/psykosocial/exchange/internal/strictjson"
)

// serveConfig is the configuration of "gateway serve -config FILE": a JSON
// file (gateway.example.json documents every member), read strictly
// (unknown, duplicate and case-folded members are refused), then the
// environment overrides of envOverrides, then defaults, then one
// validation whose errors name the setting. The zero value of every member
// is safe: it takes the default.
type serveConfig struct {
	// DataDir holds the SQLite database and, by default, the directory
	// file and the key directory. Default "data".
	DataDir string `json:"data_dir"`
	// Listen is the public HTTPS address (mutual TLS). Default 127.0.0.1:8443.
	Listen string `json:"listen"`
	// OperatorListen is the operator address (/metrics), plain HTTP: keep
	// it on loopback or an operators' network. Default 127.0.0.1:9090.
	OperatorListen string `json:"operator_listen"`
	// Directory is the authority directory file. Default DATA_DIR/directory.json.
	Directory string `json:"directory"`
	// ConsentPolicy is the consent policy file; empty means the embedded
	// default policy. Read again on each reload (SIGHUP, POST /reload), as
	// are Directory, EastRegionCode and EastRegionCVR.
	ConsentPolicy string `json:"consent_policy"`
	// EastRegionCode and EastRegionCVR configure Region Østdanmark once
	// published (refdata.Config); the test values 1099/99990007 are
	// refused outside --dev.
	EastRegionCode string `json:"east_region_code"`
	// EastRegionCVR is Region Østdanmark's CVR number.
	EastRegionCVR string `json:"east_region_cvr"`
	// Store selects the database.
	Store storeSettings `json:"store"`
	// Keys selects the key provider.
	Keys keySettings `json:"keys"`
	// TLS is the server certificate when the key provider gives none (Vault).
	TLS tlsSettings `json:"tls"`
	// Trust is the trust store: anchors, registered certificates, CRLs.
	Trust trustSettings `json:"trust"`
	// Journal configures the audit journal.
	Journal journalSettings `json:"journal"`
	// Retention configures the retention purge of personal data.
	Retention retentionSettings `json:"retention"`
	// Log configures the operational log.
	Log logSettings `json:"log"`

	// envErrs are the environment overrides that could not be read,
	// reported by validate.
	envErrs []error
}

// storeSettings selects the store's backend (storeconfig.Config).
type storeSettings struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `json:"driver"`
	// SQLitePath is the database file. Default DATA_DIR/gateway.db.
	SQLitePath string `json:"sqlite_path"`
	// PostgresURL is the connection string; a secret: give it as
	// GATEWAY_POSTGRES_URL rather than in the file.
	PostgresURL string `json:"postgres_url"`
	// PostgresSchema holds the tables. Default "public".
	PostgresSchema string `json:"postgres_schema"`
}

// keySettings selects the key provider.
type keySettings struct {
	// Provider is "files" (default) or "vault".
	Provider string `json:"provider"`
	// Dir is the files provider's key directory. Default DATA_DIR/pki/gateway.
	Dir string `json:"dir"`
	// Vault configures the Vault provider (keys.VaultConfig).
	Vault vaultSettings `json:"vault"`
}

// vaultSettings are the members of keys.VaultConfig the file may set.
type vaultSettings struct {
	// Address is Vault's URL (https, or http on loopback). GATEWAY_VAULT_ADDR overrides it.
	Address string `json:"address"`
	// TokenFile holds the token (a Vault Agent sink). GATEWAY_VAULT_TOKEN_FILE overrides it.
	TokenFile string `json:"token_file"`
	// CACertFile verifies Vault's certificate; empty means the system roots.
	CACertFile string `json:"ca_cert_file"`
	// Namespace is the Vault Enterprise namespace.
	Namespace string `json:"namespace"`
	// TransitMount is the transit engine's mount. Default "transit".
	TransitMount string `json:"transit_mount"`
	// KVMount is the KV v2 engine's mount. Default "secret".
	KVMount string `json:"kv_mount"`
}

// tlsSettings is the public listener's certificate from files.
type tlsSettings struct {
	// CertFile is the certificate chain, leaf first. Empty: the key
	// provider's (the files provider's tls.cert.pem).
	CertFile string `json:"cert_file"`
	// KeyFile is its private key (mode 0600).
	KeyFile string `json:"key_file"`
}

// trustSettings configures the trust store (certs.Config).
type trustSettings struct {
	// Roots are PEM files of the trust anchors (the OCES3 root in
	// production). Empty means the embedded OCES3 anchors.
	Roots []string `json:"roots"`
	// Intermediates are PEM files of issuing CAs.
	Intermediates []string `json:"intermediates"`
	// CertificatesDir holds the authorities' registered certificates. Required.
	CertificatesDir string `json:"certificates_dir"`
	// CRLDir holds the issuing CAs' CRLs.
	CRLDir string `json:"crl_dir"`
	// RequireCRL fails closed without a fresh CRL. Default true.
	RequireCRL *bool `json:"require_crl"`
}

// journalSettings configures the audit journal.
type journalSettings struct {
	// Origin names the journal in its checkpoints. Default
	// "exchange.psykosocial.dk/journal".
	Origin string `json:"origin"`
	// CheckpointInterval is the longest time between checkpoints, a Go
	// duration such as "10s". Default 10s.
	CheckpointInterval duration `json:"checkpoint_interval"`
}

// retentionSettings configure the retention purge (store.Retention; its
// doc comment and README.md give the reasons for the defaults) and how
// often it runs. Each replica runs it; concurrent purges share the work.
type retentionSettings struct {
	// DeliveredDays is how many days an acknowledged mailbox message (a
	// view or a withdrawal notice) is kept after its acknowledgement:
	// 1 to 3650. Default 30.
	DeliveredDays int `json:"delivered_days"`
	// UndeliveredDays is how many days a mailbox message never
	// acknowledged is kept after it was queued: 1 to 3650. Default 90.
	UndeliveredDays int `json:"undelivered_days"`
	// RecordDays is how many days a record's body and a message's
	// evidence and receipt are kept after receipt (and longer while a
	// mailbox message of the record is stored): 1 to 3650. Default 180.
	RecordDays int `json:"record_days"`
	// Interval is how often the purge runs (the replay memory's too), a
	// Go duration from "1m" to "24h". Default 10m.
	Interval duration `json:"interval"`
	// BatchSize bounds the rows of one purge transaction: 1 to 5000.
	// Default 500.
	BatchSize int `json:"batch_size"`
}

// Retention defaults and bounds of the configuration.
const (
	defaultPurgeInterval = 10 * time.Minute
	minPurgeInterval     = time.Minute
	maxPurgeInterval     = 24 * time.Hour
	maxRetentionDays     = 3650
	maxPurgeBatchSize    = 5000
)

// logSettings configures the operational log.
type logSettings struct {
	// Level is debug, info (default), warn or error.
	Level string `json:"level"`
	// Format is json (default) or text.
	Format string `json:"format"`
}

// duration is a time.Duration written as a Go duration string ("10s").
type duration time.Duration

// UnmarshalJSON reads a Go duration string.
func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("a duration is a string such as \"10s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return errors.New("a duration is a string such as \"10s\"")
	}
	*d = duration(v)
	return nil
}

// Defaults of the service.
const (
	defaultListen         = "127.0.0.1:8443"
	defaultOperatorListen = "127.0.0.1:9090"
	defaultJournalOrigin  = "exchange.psykosocial.dk/journal"
)

// maxConfigBytes bounds the configuration file.
const maxConfigBytes = 1 << 20

// loadServeConfig reads a configuration file strictly.
func loadServeConfig(path string) (serveConfig, error) {
	var c serveConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if err := strictjson.Unmarshal(b, &c, strictjson.Limits{MaxBytes: maxConfigBytes, MaxDepth: 6, MaxArray: 64}); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// envOverrides are the environment variables that override the file:
// secrets (which belong in the environment, not in a file), addresses
// (which differ per replica), the log's level and format (which an
// operator changes for a run, --dev included) and the retention (which a
// deployment sets once for all its replicas, --dev included).
var envOverrides = []struct {
	name string
	set  func(c *serveConfig, v string)
}{
	{"GATEWAY_DATA_DIR", func(c *serveConfig, v string) { c.DataDir = v }},
	{"GATEWAY_LISTEN", func(c *serveConfig, v string) { c.Listen = v }},
	{"GATEWAY_OPERATOR_LISTEN", func(c *serveConfig, v string) { c.OperatorListen = v }},
	{"GATEWAY_POSTGRES_URL", func(c *serveConfig, v string) { c.Store.PostgresURL = v }},
	{"GATEWAY_VAULT_ADDR", func(c *serveConfig, v string) { c.Keys.Vault.Address = v }},
	{"GATEWAY_VAULT_TOKEN_FILE", func(c *serveConfig, v string) { c.Keys.Vault.TokenFile = v }},
	{"GATEWAY_EAST_REGION_CODE", func(c *serveConfig, v string) { c.EastRegionCode = v }},
	{"GATEWAY_EAST_REGION_CVR", func(c *serveConfig, v string) { c.EastRegionCVR = v }},
	{"GATEWAY_LOG_LEVEL", func(c *serveConfig, v string) { c.Log.Level = v }},
	{"GATEWAY_LOG_FORMAT", func(c *serveConfig, v string) { c.Log.Format = v }},
	{"GATEWAY_RETENTION_DELIVERED_DAYS", envDays("GATEWAY_RETENTION_DELIVERED_DAYS", "retention.delivered_days", func(c *serveConfig) *int { return &c.Retention.DeliveredDays })},
	{"GATEWAY_RETENTION_UNDELIVERED_DAYS", envDays("GATEWAY_RETENTION_UNDELIVERED_DAYS", "retention.undelivered_days", func(c *serveConfig) *int { return &c.Retention.UndeliveredDays })},
	{"GATEWAY_RETENTION_RECORD_DAYS", envDays("GATEWAY_RETENTION_RECORD_DAYS", "retention.record_days", func(c *serveConfig) *int { return &c.Retention.RecordDays })},
	{"GATEWAY_RETENTION_INTERVAL", func(c *serveConfig, v string) {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			c.envErrs = append(c.envErrs, fmt.Errorf("retention.interval: GATEWAY_RETENTION_INTERVAL %q is not a Go duration such as \"10m\"", v))
			return
		}
		c.Retention.Interval = duration(d)
	}},
}

// envDays is the override, by variable name, of a whole number of days.
func envDays(name, setting string, field func(*serveConfig) *int) func(*serveConfig, string) {
	return func(c *serveConfig, v string) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			c.envErrs = append(c.envErrs, fmt.Errorf("%s: %s %q is not a whole number of days", setting, name, v))
			return
		}
		*field(c) = n
	}
}

// applyEnv applies the environment overrides that are set; one that
// cannot be read is reported by validate.
func (c *serveConfig) applyEnv(getenv func(string) string) {
	for _, o := range envOverrides {
		if v := getenv(o.name); v != "" {
			o.set(c, v)
		}
	}
}

// withDefaults fills every empty member with its default.
func (c serveConfig) withDefaults() serveConfig {
	if c.DataDir == "" {
		c.DataDir = defaultDataDir
	}
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if c.OperatorListen == "" {
		c.OperatorListen = defaultOperatorListen
	}
	if c.Directory == "" {
		c.Directory = filepath.Join(c.DataDir, "directory.json")
	}
	if c.Store.Driver == "" {
		c.Store.Driver = storeconfig.DriverSQLite
	}
	if c.Store.SQLitePath == "" && c.Store.Driver == storeconfig.DriverSQLite {
		c.Store.SQLitePath = filepath.Join(c.DataDir, "gateway.db")
	}
	if c.Keys.Provider == "" {
		c.Keys.Provider = "files"
	}
	if c.Keys.Dir == "" && c.Keys.Provider == "files" {
		c.Keys.Dir = filepath.Join(c.DataDir, "pki", "gateway")
	}
	if c.Trust.RequireCRL == nil {
		t := true
		c.Trust.RequireCRL = &t
	}
	if c.Journal.Origin == "" {
		c.Journal.Origin = defaultJournalOrigin
	}
	if c.Retention.DeliveredDays == 0 {
		c.Retention.DeliveredDays = int(store.DefaultDeliveredRetention / (24 * time.Hour))
	}
	if c.Retention.UndeliveredDays == 0 {
		c.Retention.UndeliveredDays = int(store.DefaultUndeliveredRetention / (24 * time.Hour))
	}
	if c.Retention.RecordDays == 0 {
		c.Retention.RecordDays = int(store.DefaultRecordRetention / (24 * time.Hour))
	}
	if c.Retention.Interval == 0 {
		c.Retention.Interval = duration(defaultPurgeInterval)
	}
	if c.Retention.BatchSize == 0 {
		c.Retention.BatchSize = store.DefaultRetention().BatchSize
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	return c
}

// refConfig is the reference data configuration the settings give.
func (c serveConfig) refConfig() refdata.Config {
	return refdata.Config{EastRegionCode: c.EastRegionCode, EastRegionCVR: c.EastRegionCVR}
}

// storeConfig is the store's configuration the settings give.
func (c serveConfig) storeConfig() storeconfig.Config {
	return storeconfig.Config{Driver: c.Store.Driver, SQLitePath: c.Store.SQLitePath,
		PostgresURL: c.Store.PostgresURL, PostgresSchema: c.Store.PostgresSchema}
}

// retention is the store's retention the settings give.
func (c serveConfig) retention() store.Retention {
	const day = 24 * time.Hour
	return store.Retention{Delivered: time.Duration(c.Retention.DeliveredDays) * day,
		Undelivered: time.Duration(c.Retention.UndeliveredDays) * day,
		Records:     time.Duration(c.Retention.RecordDays) * day, BatchSize: c.Retention.BatchSize}
}

// validate checks the configuration once, at start; dev allows the
// validate checks the configuration at start (a reload checks the
// directory, the policy and the east region's settings again, in
// rulesLoader); dev allows the
// development-only values. Every error names the setting.
func (c serveConfig) validate(dev bool) error {
	errs := append([]error(nil), c.envErrs...)
	bad := func(setting, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", setting, fmt.Sprintf(format, a...)))
	}
	for _, a := range []struct{ setting, addr string }{{"listen", c.Listen}, {"operator_listen", c.OperatorListen}} {
		host, port, err := net.SplitHostPort(a.addr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			bad(a.setting, "%q is not host:port", a.addr)
		} else if a.setting == "operator_listen" && host == "" {
			bad(a.setting, "give the host explicitly (e.g. 127.0.0.1:9090): the operator listener must not listen on every address by accident")
		}
	}
	if c.Listen == c.OperatorListen && !strings.HasSuffix(c.Listen, ":0") {
		bad("operator_listen", "must differ from listen")
	}
	switch c.Store.Driver {
	case storeconfig.DriverSQLite:
		if c.Store.SQLitePath == "" {
			bad("store.sqlite_path", "required with store.driver sqlite")
		}
		if c.Store.PostgresURL != "" {
			bad("store.postgres_url", "set (perhaps by GATEWAY_POSTGRES_URL) but store.driver is sqlite (with --dev: -store postgres)")
		}
		if c.Store.PostgresSchema != "" {
			bad("store.postgres_schema", "set but store.driver is sqlite (with --dev: -store postgres)")
		}
	case storeconfig.DriverPostgres:
		if c.Store.PostgresURL == "" {
			bad("store.postgres_url", "required with store.driver postgres (give it as GATEWAY_POSTGRES_URL)")
		}
		if c.Store.SQLitePath != "" {
			bad("store.sqlite_path", "set but store.driver is postgres")
		}
	default:
		bad("store.driver", "%q is not sqlite or postgres", c.Store.Driver)
	}
	switch c.Keys.Provider {
	case "files":
		if c.Keys.Dir == "" {
			bad("keys.dir", "required with provider files")
		}
	case "vault":
		if c.Keys.Vault.Address == "" {
			bad("keys.vault.address", "required with provider vault (or GATEWAY_VAULT_ADDR)")
		}
		if c.Keys.Vault.TokenFile == "" {
			bad("keys.vault.token_file", "required with provider vault (or GATEWAY_VAULT_TOKEN_FILE)")
		}
		if c.TLS.CertFile == "" {
			bad("tls.cert_file", "required with provider vault: Vault does not hold the TLS key")
		}
	default:
		bad("keys.provider", "%q is not files or vault", c.Keys.Provider)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls.key_file", "tls.cert_file and tls.key_file go together")
	}
	rc := c.refConfig()
	if _, err := refdata.Load(rc); err != nil {
		bad("east_region_code/east_region_cvr", "%v", err)
	} else if rc.UsesTestValues() && !dev {
		bad("east_region_code", "%s/%s are the made-up test values (refdata.TestEastRegion); refused outside --dev", rc.EastRegionCode, rc.EastRegionCVR)
	}
	if !dev && c.Trust.CertificatesDir == "" {
		bad("trust.certificates_dir", "required: the authorities' registered certificates")
	}
	for _, d := range []struct {
		setting string
		days    int
		env     string
	}{
		{"retention.delivered_days", c.Retention.DeliveredDays, "GATEWAY_RETENTION_DELIVERED_DAYS"},
		{"retention.undelivered_days", c.Retention.UndeliveredDays, "GATEWAY_RETENTION_UNDELIVERED_DAYS"},
		{"retention.record_days", c.Retention.RecordDays, "GATEWAY_RETENTION_RECORD_DAYS"},
	} {
		if d.days < 1 || d.days > maxRetentionDays {
			bad(d.setting, "%d is not 1 to %d days (or %s)", d.days, maxRetentionDays, d.env)
		}
	}
	if iv := time.Duration(c.Retention.Interval); iv < minPurgeInterval || iv > maxPurgeInterval {
		bad("retention.interval", "%s is not %s to %s (or GATEWAY_RETENTION_INTERVAL)", iv, minPurgeInterval, maxPurgeInterval)
	}
	if n := c.Retention.BatchSize; n < 1 || n > maxPurgeBatchSize {
		bad("retention.batch_size", "%d is not 1 to %d", n, maxPurgeBatchSize)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format", "%q is not json or text", c.Log.Format)
	}
	return errors.Join(errs...)
}
