package keys

import (
	"context"
	"log/slog"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// renewLoop keeps the token alive until ctx ends: a renewable token with
// a TTL is renewed by a vault.LifetimeWatcher; when renewal ends (the
// token reached its maximum TTL, or renewing failed until the lease ran
// out) and a TokenFile is configured, the file is read every TokenFilePoll
// until it holds a new token, which then replaces the old one.
func (p *VaultProvider) renewLoop(ctx context.Context, self *vault.Secret) {
	defer close(p.done)
	token := p.client.Token()
	for {
		w, expires := p.watcher(ctx, token, self)
		if w != nil {
			p.watch(ctx, w)
		}
		if !expires {
			return
		}
		if ctx.Err() != nil {
			p.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "vault token renewal stopped")
			return
		}
		if p.cfg.TokenFile == "" {
			p.log.LogAttrs(ctx, slog.LevelWarn, "vault token will expire and there is no token file to read a new one from")
			return
		}
		next, s, ok := p.awaitNewToken(ctx, token)
		if !ok {
			return
		}
		token, self = next, s
	}
}

// watcher starts a lifetime watcher for a renewable token with a TTL. It
// returns nil (and says why) for a token that needs none or cannot have
// one; expires is false only for a token without a TTL.
func (p *VaultProvider) watcher(ctx context.Context, token string, self *vault.Secret) (w *vault.LifetimeWatcher, expires bool) {
	renewable, err := self.TokenIsRenewable()
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "vault token: cannot tell whether it is renewable", slog.String("error", err.Error()))
		return nil, true
	}
	ttl, err := self.TokenTTL()
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "vault token: cannot read its TTL", slog.String("error", err.Error()))
		return nil, true
	}
	switch {
	case ttl == 0:
		p.log.LogAttrs(ctx, slog.LevelInfo, "vault token has no TTL: no renewal needed")
		return nil, false
	case !renewable:
		p.log.LogAttrs(ctx, slog.LevelWarn, "vault token is not renewable: it expires after its TTL",
			slog.Duration("ttl", ttl))
		return nil, true
	}
	w, err = p.client.NewLifetimeWatcher(&vault.LifetimeWatcherInput{
		Secret: &vault.Secret{Auth: &vault.SecretAuth{
			ClientToken:   token,
			Renewable:     true,
			LeaseDuration: int(ttl / time.Second),
		}},
		RenewBehavior: vault.RenewBehaviorIgnoreErrors,
	})
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelError, "vault token renewal could not start", slog.String("error", err.Error()))
		return nil, true
	}
	p.log.LogAttrs(ctx, slog.LevelInfo, "vault token renewal started", slog.Duration("ttl", ttl))
	return w, true
}

// watch runs w until ctx ends or w gives up.
func (p *VaultProvider) watch(ctx context.Context, w *vault.LifetimeWatcher) {
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-w.RenewCh():
			ttl := 0
			if r != nil && r.Secret != nil && r.Secret.Auth != nil {
				ttl = r.Secret.Auth.LeaseDuration
			}
			p.log.LogAttrs(ctx, slog.LevelDebug, "vault token renewed", slog.Duration("ttl", time.Duration(ttl)*time.Second))
		case err := <-w.DoneCh():
			if err != nil {
				p.log.LogAttrs(ctx, slog.LevelError, "vault token renewal failed", slog.String("error", err.Error()))
			} else {
				p.log.LogAttrs(ctx, slog.LevelWarn, "vault token can no longer be renewed (maximum TTL reached)")
			}
			return
		}
	}
}

// awaitNewToken reads TokenFile every TokenFilePoll (on the configured
// clock) until it holds a token
// other than old that Vault accepts, and switches the client to it.
func (p *VaultProvider) awaitNewToken(ctx context.Context, old string) (string, *vault.Secret, bool) {
	t := p.cfg.Clock.NewTicker(p.cfg.TokenFilePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", nil, false
		case <-t.C():
		}
		next, err := readTokenFile(p.cfg.TokenFile)
		if err != nil {
			p.log.LogAttrs(ctx, slog.LevelError, "vault token file", slog.String("error", err.Error()))
			continue
		}
		if next == old {
			continue
		}
		p.client.SetToken(next)
		self, err := p.lookupSelf(ctx)
		if err != nil {
			p.log.LogAttrs(ctx, slog.LevelError, "vault token from the token file is refused", slog.String("error", err.Error()))
			p.client.SetToken(old)
			continue
		}
		p.log.LogAttrs(ctx, slog.LevelInfo, "vault token replaced from the token file", slog.String("file", p.cfg.TokenFile))
		return next, self, true
	}
}
