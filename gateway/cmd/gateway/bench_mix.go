package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/record"
)

// The kinds of message of the benchmark's mix.
const (
	// benchRegion is one regional JSON record (an EPC registration).
	benchRegion = "region"
	// benchMunicipality is one municipal XML registration (a crisis team's hotline call).
	benchMunicipality = "municipality"
	// benchPolice is a police list (XML) of -police-list persons at the scene.
	benchPolice = "police"
)

// benchKinds are the mix's kinds in report order.
var benchKinds = []string{benchRegion, benchMunicipality, benchPolice}

// benchDefaultMix is the default mix, in messages: for every police list
// of 50, ten single regional records and four municipal registrations
// (15 messages, 64 records).
const benchDefaultMix = "region=10,municipality=4,police=1"

// benchResidenceCodes are the residence municipalities of the benchmark's
// people, all in Regions Nordjylland, Midtjylland and Syddanmark, whose
// regions stay as they are in the 2027 merger (the deliveries of a run do
// not depend on its date).
var benchResidenceCodes = map[string]bool{"0657": true, "0751": true, "0661": true, "0740": true, "0791": true,
	"0615": true, "0461": true, "0630": true, "0561": true, "0621": true, "0851": true, "0813": true}

// Senders of the mix: regions outside the merger, the crisis teams of the
// residence municipalities, the incident's police district.
var (
	benchRegionSenders = []string{"region:1081", "region:1082", "region:1083"}
	benchPoliceSenders = []string{demoPolice}
)

// benchMix is the parsed -mix: a weight (messages) per kind.
type benchMix struct {
	weights map[string]int
	// seq is one cycle of the mix, the kinds spread evenly.
	seq []string
}

// parseBenchMix reads "region=10,municipality=4,police=1".
func parseBenchMix(s string) (benchMix, error) {
	m := benchMix{weights: map[string]int{}}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		switch {
		case !ok || err != nil:
			return m, fmt.Errorf("-mix: %q is not KIND=WEIGHT", part)
		case k != benchRegion && k != benchMunicipality && k != benchPolice:
			return m, fmt.Errorf("-mix: kind %q is not region, municipality or police", k)
		case n < 0 || n > 1000:
			return m, fmt.Errorf("-mix: weight %d of %s is not 0 to 1000", n, k)
		case m.weights[k] != 0:
			return m, fmt.Errorf("-mix: %s given twice", k)
		}
		m.weights[k] = n
	}
	// Smooth the cycle: each kind's messages at evenly spaced positions.
	type pos struct {
		at   float64
		kind string
	}
	var ps []pos
	for _, k := range benchKinds {
		w := m.weights[k]
		for j := range w {
			ps = append(ps, pos{(float64(j) + 0.5) / float64(w), k})
		}
	}
	if len(ps) == 0 {
		return m, errors.New("-mix: every weight is 0")
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].at < ps[j].at })
	for _, p := range ps {
		m.seq = append(m.seq, p.kind)
	}
	return m, nil
}

// String is the mix as -mix takes it.
func (m benchMix) String() string {
	var parts []string
	for _, k := range benchKinds {
		if m.weights[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m.weights[k]))
		}
	}
	return strings.Join(parts, ",")
}

// recordsPerCycle is the number of records in one cycle of the mix.
func (m benchMix) recordsPerCycle(policeList int) int {
	return m.weights[benchRegion] + m.weights[benchMunicipality] + m.weights[benchPolice]*policeList
}

// benchGen makes the benchmark's documents: one incident (a fire at a
// concert venue in Herning two hours ago), people living in Jutland and
// on Funen, each record valid and deliverable.
type benchGen struct {
	incident   record.Incident
	occurred   time.Time
	expires    time.Time
	residences []demoResidence
	policeList int
	adapters   *adapters.Registry
	policeEnc  adapters.Adapter
	clock      clock.Clock
}

func newBenchGen(now time.Time, clk clock.Clock, reg *adapters.Registry, v *record.Validator, policeList int) (*benchGen, error) {
	pol, err := police.New(v, police.WithOfficerRole(police.RoleIncidentCommander))
	if err != nil {
		return nil, err
	}
	dk := clock.Danish()
	occurred := now.Add(-2 * time.Hour).Truncate(time.Minute).In(dk)
	y, mo, d := clock.DanishDay(occurred)
	g := &benchGen{occurred: occurred, expires: time.Date(y+1, mo, 1, 0, 0, 0, 0, dk), policeList: policeList,
		adapters: reg, policeEnc: pol, clock: clk}
	g.incident = record.Incident{
		ID:    fmt.Sprintf("MJ-%04d-%02d%02d-%02d%02d-BENCH-BRAND", y, mo, d, occurred.Hour(), occurred.Minute()),
		Title: "Brand på spillested, Herning centrum (belastningstest)", Kind: record.KindFire, OccurredAt: &occurred,
		MunicipalityCode: demoIncidentMunicipality, RegionCode: demoIncidentRegion,
	}
	for _, r := range demoResidences {
		if benchResidenceCodes[r.code] {
			g.residences = append(g.residences, r)
		}
	}
	return g, nil
}

// municipalitySenders are the crisis teams of the residence municipalities.
func (g *benchGen) municipalitySenders() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range g.residences {
		if id := "municipality:" + r.code; !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// benchDoc is one generated message.
type benchDoc struct {
	kind, sender string
	doc          client.Document
	// records are the record ids, in document order.
	records []string
}

// message makes message i of the run: kind from the mix, the sender by
// turn among its kind's senders.
func (g *benchGen) message(i int, kind, sender string) (*benchDoc, error) {
	rng := mrand.New(mrand.NewPCG(uint64(i), 0x62656e6368))
	n := 1
	if kind == benchPolice {
		n = g.policeList
	}
	m := &adapters.Message{Kind: adapters.KindRegistration}
	out := &benchDoc{kind: kind, sender: sender}
	for j := range n {
		var rec *record.Record
		seq := i*1000 + j // unique per record of a run, for the CPR number
		switch kind {
		case benchRegion:
			rec = g.regionRecord(rng, sender, seq)
		case benchMunicipality:
			rec = g.municipalRecord(rng, sender, seq)
		default:
			rec = g.policeRecord(rng, sender, seq)
		}
		m.Items = append(m.Items, adapters.Item{Index: j, Record: rec})
		out.records = append(out.records, rec.RecordID)
	}
	if kind == benchRegion {
		a, _ := g.adapters.ByFormat(client.FormatRegion)
		doc, err := a.Encode(m)
		if err != nil {
			return nil, fmt.Errorf("encode a regional document: %w", err)
		}
		out.doc = client.Document{Kind: client.KindRegistration, Payload: doc}
		return out, nil
	}
	id, err := envelope.NewMessageID(rand.Reader)
	if err != nil {
		return nil, err
	}
	now := g.clock.Now()
	ref := "27.24.00-G01-" + id[:8]
	a, _ := g.adapters.ByFormat(client.FormatMunicipality)
	if kind == benchPolice {
		ref = fmt.Sprintf("5300-80150-%05d-%02d", i%100000, now.Year()%100)
		a = g.policeEnc
	}
	m.Header = &adapters.Header{MessageID: id, Sender: sender, Recipient: envelope.GatewayID,
		IssuedAt: now.Add(-time.Minute).Truncate(time.Second), ExpiresAt: now.Add(time.Hour).Truncate(time.Second), SenderReference: ref}
	doc, err := a.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s's document: %w", sender, err)
	}
	out.doc = client.Document{Payload: doc, MessageID: id}
	return out, nil
}

// newRecord is a record of the incident registered by sender.
func (g *benchGen) newRecord(by string, role record.RegistrarRole, site record.Site, minutes int) *record.Record {
	id, err := envelope.NewMessageID(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	in := g.incident
	in.Site = site
	at := g.occurred.Add(time.Duration(minutes) * time.Minute)
	return &record.Record{Schema: record.SchemaV1, RecordID: id, Version: 1, Incident: &in,
		Registered: &record.Registered{At: &at, ByAuthority: by, ByRole: role}}
}

// person is a person of age minAge..maxAge living at res, with a CPR
// number unique to seq.
func (g *benchGen) person(rng *mrand.Rand, seq, minAge, maxAge int, res demoResidence) *record.Person {
	y, _, _ := clock.DanishDay(g.occurred)
	age := minAge + rng.IntN(maxAge-minAge+1)
	birth := time.Date(y-age-1, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (seq/1000)%365)
	seventh := 4 // 20YY for YY <= 36
	if birth.Year() < 2000 {
		seventh = seq % 4 // 0-3: 19YY
	}
	cpr := fmt.Sprintf("%02d%02d%02d%d%03d", birth.Day(), int(birth.Month()), birth.Year()%100, seventh, seq%1000)
	first := demoFirstNames[rng.IntN(len(demoFirstNames))]
	last := demoSurnames[rng.IntN(len(demoSurnames))]
	bd := record.Date{Year: birth.Year(), Month: birth.Month(), Day: birth.Day()}
	return &record.Person{CPR: cpr, Name: first + " " + last, BirthDate: &bd,
		Phone:    fmt.Sprintf("+45%d%07d", 2+rng.IntN(2), rng.IntN(10_000_000)),
		Email:    strings.ToLower(demoASCII(first) + "." + demoASCII(last) + "@example.dk"),
		Language: "da",
		Address: &record.Address{Street: fmt.Sprintf("%s %d", res.street, 1+rng.IntN(120)), PostalCode: res.postal,
			City: res.city, MunicipalityCode: res.code}}
}

func (g *benchGen) obtained(by string, role record.RegistrarRole, minutes int, ref string) *record.Obtained {
	at := g.occurred.Add(time.Duration(minutes) * time.Minute)
	return &record.Obtained{By: &record.ObtainedBy{Authority: by, Role: role}, At: &at,
		Method: record.MethodVerbalDocumented, EvidenceRef: ref}
}

// regionRecord is an EPC registration: an affected person who consents to
// follow-up by the residence municipality and region.
func (g *benchGen) regionRecord(rng *mrand.Rand, sender string, seq int) *record.Record {
	minutes := 30 + rng.IntN(60)
	r := g.newRecord(sender, record.RoleKOP, record.SiteEPC, minutes)
	r.Person = g.person(rng, seq, 16, 85, g.residences[rng.IntN(len(g.residences))])
	r.Relation = &record.Relation{Type: record.RelationAffected}
	r.Assessment = &record.Assessment{FollowUpPriority: []record.Priority{record.PriorityDays, record.PriorityWeeks, record.PriorityAcute}[rng.IntN(3)],
		Notes: "Røgpåvirket ved evakueringen; rystet, svært ved at falde til ro."}
	granted := true
	r.Consent = &record.Consent{Registration: record.RegistrationGranted, GivenBy: record.GivenBySelf,
		FollowUp: &record.FollowUp{Granted: &granted, ExpiresAt: &g.expires, Grants: []record.Grant{
			{Recipient: record.RecipientResidenceMunicipality, Purposes: []record.Purpose{record.PurposeFollowUp},
				Channels: []record.Channel{record.ChannelPhone, record.ChannelDigitalPost}},
			{Recipient: record.RecipientResidenceRegion, Purposes: []record.Purpose{record.PurposeFollowUp},
				Channels: []record.Channel{record.ChannelPhone}}}},
		Obtained: g.obtained(sender, record.RoleKOP, minutes, fmt.Sprintf("EPC-HER-%06d", seq))}
	return r
}

// municipalRecord is a crisis team's registration of a relative who called
// its hotline and consents to follow-up by the residence municipality.
func (g *benchGen) municipalRecord(rng *mrand.Rand, sender string, seq int) *record.Record {
	minutes := 60 + rng.IntN(50)
	r := g.newRecord(sender, record.RoleCrisisTeam, record.SiteHotline, minutes)
	r.Person = g.person(rng, seq, 30, 70, g.residences[rng.IntN(len(g.residences))])
	r.Relation = &record.Relation{Type: record.RelationRelative,
		Kinship: []record.Kinship{record.KinshipParent, record.KinshipPartner, record.KinshipSibling}[rng.IntN(3)]}
	r.Assessment = &record.Assessment{FollowUpPriority: record.PriorityWeeks}
	granted := true
	r.Consent = &record.Consent{Registration: record.RegistrationGranted, GivenBy: record.GivenBySelf,
		FollowUp: &record.FollowUp{Granted: &granted, ExpiresAt: &g.expires, Grants: []record.Grant{
			{Recipient: record.RecipientResidenceMunicipality, Purposes: []record.Purpose{record.PurposeFollowUp},
				Channels: []record.Channel{record.ChannelPhone, record.ChannelEmail}}}},
		Obtained: g.obtained(sender, record.RoleCrisisTeam, minutes, fmt.Sprintf("KT-HER-%06d", seq))}
	return r
}

// policeRecord is one person of a police list: at the scene, no consent asked.
func (g *benchGen) policeRecord(rng *mrand.Rand, sender string, seq int) *record.Record {
	r := g.newRecord(sender, record.RolePolice, record.SiteScene, 10+rng.IntN(80))
	r.Person = g.person(rng, seq, 18, 75, g.residences[rng.IntN(len(g.residences))])
	r.Person.Email = ""
	r.Relation = &record.Relation{Type: []record.RelationType{record.RelationWitness, record.RelationAffected, record.RelationBystander}[rng.IntN(3)]}
	r.Consent = &record.Consent{Registration: record.RegistrationNotObtained}
	return r
}
