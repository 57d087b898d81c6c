package pipeline_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
)

// policyVersioned is the default policy under another version string.
func policyVersioned(t *testing.T, version string) *consent.Policy {
	t.Helper()
	b := bytes.Replace(consent.DefaultJSON(), []byte(`"version": "dk-default-2026.2"`), []byte(`"version": "`+version+`"`), 1)
	if bytes.Equal(b, consent.DefaultJSON()) {
		t.Fatal("the default policy's version line is not where the test expects it")
	}
	p, err := consent.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rulesFor builds every part of the rules on ref and dir, as serve does.
func (e *env) rulesFor(ref *refdata.Data, dir *directory.Directory, policy *consent.Policy) pipeline.Rules {
	e.t.Helper()
	trust, err := certs.NewStore(e.trustCfg, dir)
	if err != nil {
		e.t.Fatal(err)
	}
	v := record.NewValidator(ref, e.clock)
	ra, err := region.New(v)
	if err != nil {
		e.t.Fatal(err)
	}
	ma, err := municipality.New(v)
	if err != nil {
		e.t.Fatal(err)
	}
	pa, err := police.New(v, police.WithOfficerRole(police.OfficerRoles()[0]))
	if err != nil {
		e.t.Fatal(err)
	}
	reg, err := adapters.NewRegistry(ra, ma, pa)
	if err != nil {
		e.t.Fatal(err)
	}
	router, err := routing.New(ref, dir)
	if err != nil {
		e.t.Fatal(err)
	}
	return pipeline.Rules{Directory: dir, Ref: ref, Certs: trust, Validator: v, Adapters: reg, Router: router, Policy: policy}
}

// restart replaces e's pipeline by a new one on the same store and journal
// with rules in force (a gateway started with them), and starts it.
func (e *env) restart(r pipeline.Rules) pipeline.ReloadResult {
	e.t.Helper()
	p := e.newPipeline(r)
	res, err := p.Start(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	e.p = p
	return res
}

// newPipeline is a pipeline on e's store and journal with rules r.
func (e *env) newPipeline(r pipeline.Rules) *pipeline.Pipeline {
	e.t.Helper()
	p, err := pipeline.New(pipeline.Config{Clock: e.clock, Certs: r.Certs, Directory: r.Directory, Ref: r.Ref, Keys: e.keys,
		Adapters: r.Adapters, Validator: r.Validator, Router: r.Router, Policy: r.Policy, Store: e.store, Journal: e.journal,
		Subjects: e.subjects})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// inForceEntries are the config_in_force entries of the journal.
func (e *env) inForceEntries() []journal.Entry {
	e.t.Helper()
	page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{Events: []journal.EventType{journal.EventConfigInForce}}, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []journal.Entry
	for _, r := range page.Results {
		out = append(out, r.Entry)
	}
	return out
}

// policyVersionsOf lists the policy versions of a record's consent decisions.
func (e *env) policyVersionsOf(recordID string) map[string]int {
	e.t.Helper()
	page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{RecordID: recordID,
		Events: []journal.EventType{journal.EventQueued, journal.EventWithheld}}, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range page.Results {
		if v := r.Entry.Consent.PolicyVersion; v != "" {
			out[v]++
		}
	}
	return out
}

// TestReloadSwapsTheVersionInForce: a new policy version put in force
// decides the next intake; the journal holds the version at start and the
// reloaded one, each with the policy version and the directory's digest;
// a version that does not hold is refused with an error that names the
// problem, journaled as refused, and the old version stays in force.
func TestReloadSwapsTheVersionInForce(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		start := e.restart(e.rulesFor(e.ref, e.dir, e.policy))
		if start.InForce.Seq != 1 || start.InForce.PolicyVersion != "dk-default-2026.2" || len(start.InForce.Gaps) != 0 {
			t.Fatalf("in force at start: %+v", start.InForce)
		}
		rid1 := newUUID(t)
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid1, 1, nil), newUUID(t))); err != nil {
			t.Fatal(err)
		}

		res, err := e.p.Reload(e.ctx, e.rulesFor(e.ref, e.dir, policyVersioned(t, "dk-test-2027.1")))
		if err != nil {
			t.Fatal(err)
		}
		if res.InForce.Seq != 2 || res.InForce.PolicyVersion != "dk-test-2027.1" || !reflect.DeepEqual(e.p.InForce(), res.InForce) {
			t.Fatalf("in force after the reload: %+v (InForce %+v)", res.InForce, e.p.InForce())
		}
		rid2 := newUUID(t)
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid2, 1, nil), newUUID(t))); err != nil {
			t.Fatal(err)
		}
		if got := e.policyVersionsOf(rid1); len(got) != 1 || got["dk-default-2026.2"] == 0 {
			t.Fatalf("decisions before the reload by %v, want dk-default-2026.2 only", got)
		}
		if got := e.policyVersionsOf(rid2); len(got) != 1 || got["dk-test-2027.1"] == 0 {
			t.Fatalf("decisions after the reload by %v, want dk-test-2027.1 only", got)
		}

		// A directory naming a format no adapter speaks is refused whole.
		bad := e.rulesFor(e.ref, e.dir, policyVersioned(t, "dk-broken"))
		reg, err := adapters.NewRegistry(e.region, e.muni)
		if err != nil {
			t.Fatal(err)
		}
		bad.Adapters = reg
		_, err = e.p.Reload(e.ctx, bad)
		if err == nil || !strings.Contains(err.Error(), `no adapter for format "police"`) {
			t.Fatalf("a reload without the police adapter: %v, want the missing format named", err)
		}
		if got := e.p.InForce(); !reflect.DeepEqual(got, res.InForce) {
			t.Fatalf("in force after a refused reload: %+v, want %+v", got, res.InForce)
		}

		es := e.inForceEntries()
		if len(es) != 3 {
			t.Fatalf("%d config_in_force entries, want start, reload and the refusal: %+v", len(es), es)
		}
		for i, w := range []struct {
			policy  string
			outcome journal.Outcome
		}{{"dk-default-2026.2", journal.OutcomeOK}, {"dk-test-2027.1", journal.OutcomeOK}, {"", journal.OutcomeRefused}} {
			got := es[i]
			if got.Consent.PolicyVersion != w.policy || got.Outcome != w.outcome || got.Actor != directory.GatewayID {
				t.Errorf("entry %d: %+v, want policy %q, outcome %s", i, got, w.policy, w.outcome)
			}
		}
		if d := fmt.Sprintf("%x", es[1].PayloadDigest); d != res.InForce.DirectoryDigest || !strings.Contains(es[1].Reason, "configuration gaps: none") {
			t.Errorf("the reload's entry: digest %s, reason %q; in force %+v", d, es[1].Reason, res.InForce)
		}
		if !strings.Contains(es[2].Reason, "reload refused") || !strings.Contains(es[2].Reason, "no adapter for format") {
			t.Errorf("the refusal's reason %q does not say what was wrong", es[2].Reason)
		}
	})
}

// TestConcurrentIntakesDuringReloads: intakes running while versions are
// swapped in and out each decide by one version from start to commit:
// every consent decision of the records of one message (a police list of
// several persons) carries the same policy version. Run with -race.
func TestConcurrentIntakesDuringReloads(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	versions := []pipeline.Rules{e.rulesFor(e.ref, e.dir, policyVersioned(t, "dk-a")), e.rulesFor(e.ref, e.dir, policyVersioned(t, "dk-b"))}
	e.restart(versions[0])
	const submitters, each, persons, reloads = 4, 4, 5, 20
	bodies := make([][][]byte, submitters)
	for i := range bodies {
		for range each {
			id := newUUID(t)
			bodies[i] = append(bodies[i], e.sealXML(policeSender, envelope.ContentTypePolice, e.policeList(id, persons), id))
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lists [][]string // the record ids of each message
	errs := make(chan error, submitters*each+reloads)
	for i := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, body := range bodies[i] {
				res, err := e.submit(policeSender, body)
				if err != nil {
					errs <- err
					continue
				}
				var ids []string
				for _, it := range res.Items {
					ids = append(ids, it.RecordID)
				}
				mu.Lock()
				lists = append(lists, ids)
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range reloads {
			if _, err := e.p.Reload(e.ctx, versions[(i+1)%2]); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ids := range lists {
		if len(ids) != persons {
			t.Fatalf("a list of %d records, want %d", len(ids), persons)
		}
		in := map[string]int{}
		for _, rid := range ids {
			for v, n := range e.policyVersionsOf(rid) {
				in[v] += n
			}
		}
		if len(in) != 1 {
			t.Fatalf("one message decided by %v: more than one version in one intake", in)
		}
		for v := range in {
			seen[v]++
		}
	}
	if n := len(e.inForceEntries()); n != 1+reloads {
		t.Fatalf("%d config_in_force entries, want %d", n, 1+reloads)
	}
	t.Logf("messages decided per version: %v", seen)
}

// withoutEast is the directory without Region Østdanmark, as a gateway
// without its code configured has it, with the reference data to match.
func (e *env) withoutEast() (*refdata.Data, *directory.Directory) {
	e.t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := e.dir.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		e.t.Fatal(err)
	}
	var keep []any
	for _, a := range doc["authorities"].([]any) {
		if a.(map[string]any)["id"] != "region:"+refdata.TestEastRegionCode {
			keep = append(keep, a)
		}
	}
	doc["authorities"] = keep
	if b, err = json.Marshal(doc); err != nil {
		e.t.Fatal(err)
	}
	dir, err := directory.Parse(b, ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return ref, dir
}

// TestRerouteOnceTheEastRegionIsConfigured: a record for a resident of
// Region Østdanmark's municipalities, received while its code is not
// configured, is withheld from the region roles (recipient_not_configured);
// once a reload configures the region, it reaches Region Østdanmark's
// mailbox, routed, judged and queued again under the new version; a record
// withdrawn meanwhile is not; a second reload, and another replica
// routing at the same time, queue nothing again.
func TestRerouteOnceTheEastRegionIsConfigured(t *testing.T) {
	east := "region:" + refdata.TestEastRegionCode
	sender := "region:1082"
	for _, b := range []struct {
		name string
		open backendFunc
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		t.Run(b.name, func(t *testing.T) {
			// The development CRL lives 30 days from t0; only routing is under test.
			e := newEnvWith(t, b.open, func(c *certs.Config) { c.RequireCRL = false })
			configured := e.rulesFor(e.ref, e.dir, e.policy)
			gapRef, gapDir := e.withoutEast()
			started := e.restart(e.rulesFor(gapRef, gapDir, e.policy))
			if len(started.InForce.Gaps) != 1 || !strings.Contains(started.InForce.Gaps[0], "Region Østdanmark") {
				t.Fatalf("in force without the east region: %+v", started.InForce)
			}
			e.clock.Set(time.Date(2027, 1, 10, 12, 0, 0, 0, clock.Danish()))
			roskilde := func(r *record.Record) {
				occurred := e.clock.Now().Add(-3 * time.Hour)
				registered := e.clock.Now().Add(-time.Hour)
				r.Incident.OccurredAt, r.Incident.MunicipalityCode, r.Incident.RegionCode = &occurred, "0101", ""
				r.Registered.At, r.Registered.ByAuthority = &registered, sender
				r.Consent.Obtained.At, r.Consent.Obtained.By.Authority = &registered, sender
				r.Person.Address = &record.Address{Street: "Algade 1", PostalCode: "4000", City: "Roskilde", MunicipalityCode: "0265"}
				r.Consent.FollowUp.ExpiresAt = nil
			}
			kept, gone := newUUID(t), newUUID(t)
			for _, rid := range []string{kept, gone} {
				res, err := e.submit(sender, e.sealJSON(sender, envelope.KindRegistration, e.regionDoc(rid, 1, roskilde), newUUID(t)))
				if err != nil || res.Items[0].Status != pipeline.ItemAccepted {
					t.Fatalf("submit while the east region is not configured: %+v, %v", res, err)
				}
			}
			page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{RecordID: kept, Events: []journal.EventType{journal.EventWithheld}}, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			gapRoles := map[record.RecipientRole]bool{}
			for _, r := range page.Results {
				if r.Entry.Reason == string(consent.CheckRecipientNotConfigured) {
					gapRoles[r.Entry.RecipientRole] = true
				}
			}
			if !gapRoles[record.RecipientResidenceRegion] {
				t.Fatalf("withheld for recipient_not_configured: %v, want the residence region among them", gapRoles)
			}
			if got := e.queued(kept); got[east] != 0 || got["municipality:0265"] == 0 {
				t.Fatalf("queued while the gap is open: %v", got)
			}
			// The second record is withdrawn before the region is configured.
			at := e.clock.Now().Add(-time.Minute).UTC()
			wd, err := e.region.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
				Schema: record.WithdrawalSchemaV1, RecordID: gone, Version: 1, Reason: record.ReasonRegisteredInError, WithdrawnAt: &at}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.submit(sender, e.sealJSON(sender, envelope.KindWithdrawal, wd, newUUID(t))); err != nil {
				t.Fatal(err)
			}
			// A reload that does not configure the region routes nothing.
			if res, err := e.p.Reload(e.ctx, e.rulesFor(gapRef, gapDir, e.policy)); err != nil || res.Rerouted != (pipeline.RerouteReport{}) {
				t.Fatalf("a reload still without the east region: %+v, %v", res, err)
			}

			// The reload that configures it, while another replica on the
			// same store routes again at the same time.
			replica := e.newPipeline(configured)
			var wg sync.WaitGroup
			var reload pipeline.ReloadResult
			var rerr, perr error
			var other pipeline.RerouteReport
			wg.Add(2)
			go func() { defer wg.Done(); reload, rerr = e.p.Reload(e.ctx, configured) }()
			go func() { defer wg.Done(); other, perr = replica.Reroute(e.ctx) }()
			wg.Wait()
			if rerr != nil || perr != nil {
				t.Fatalf("reload %v, replica %v", rerr, perr)
			}
			if len(reload.InForce.Gaps) != 0 {
				t.Fatalf("gaps after configuring the east region: %v", reload.InForce.Gaps)
			}
			if n := reload.Rerouted.Records + other.Records; n != 1 || reload.Rerouted.Failed+other.Failed != 0 {
				t.Fatalf("routed again: reload %+v, replica %+v; want the one record not withdrawn, once", reload.Rerouted, other)
			}
			got := e.queued(kept)
			if got[east] == 0 {
				t.Fatalf("queued after the reload: %v, want %s", got, east)
			}
			if g := e.queued(gone); g[east] != 0 {
				t.Fatalf("the withdrawn record was routed again: %v", g)
			}
			rs := e.pull(east, 0)
			if len(rs) != 1 || rs[0].d.RecordID != kept || rs[0].d.Kind != string(envelope.KindRegistration) {
				t.Fatalf("%s's mailbox: %+v", east, rs)
			}
			if err := e.p.Ack(e.ctx, east, rs[0].d.MailboxID, e.receipt(east, rs[0])); err != nil {
				t.Fatal(err)
			}

			// Again: nothing more.
			res, err := e.p.Reload(e.ctx, configured)
			if err != nil || res.Rerouted.Records != 0 || res.Rerouted.Queued != 0 {
				t.Fatalf("the second reload: %+v, %v", res, err)
			}
			if again := e.queued(kept); again[east] != got[east] {
				t.Fatalf("queued to %s after the second reload: %d, before %d", east, again[east], got[east])
			}
			e.clock.Advance(time.Hour)
			if rs := e.pull(east, 0); len(rs) != 0 {
				t.Fatalf("%s's mailbox after the second reload: %+v", east, rs)
			}
		})
	}
}
