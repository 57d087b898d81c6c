package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
)

// The demo's incident: a fire at a concert venue in Herning, Region
// Midtjylland; the region's KOP runs an evacuation and relatives centre
// (EPC), Midt- og Vestjyllands Politi lists who was at the scene, and
// Herning Kommune's crisis team registers callers to its hotline.
const (
	demoIncidentMunicipality = "0657"
	demoIncidentRegion       = "1082"
	demoRegion               = "region:1082"
	demoPolice               = "police:midt_vestjylland"
	demoCrisisTeam           = "municipality:0657"
	// demoSeed makes the demo's people the same on every run.
	demoSeed = 20261204
	// demoEPCPersons is the number of people the EPC registers.
	demoEPCPersons = 40
	// demoPolicePersons is the length of the police list (one of them
	// with a mistyped CPR number, refused on its own).
	demoPolicePersons = 24
	// demoCrisisTeamPersons is the number of the crisis team's registrations.
	demoCrisisTeamPersons = 6
)

// demoResidence is a residence somewhere in the country.
type demoResidence struct {
	code, postal, city, street string
}

// demoResidences spread the people across the country (the incident
// municipality, its region and the four other regions).
var demoResidences = []demoResidence{
	{"0657", "7400", "Herning", "Bryggergade"},
	{"0657", "7400", "Herning", "Østergade"},
	{"0751", "8000", "Aarhus C", "Vestergade"},
	{"0661", "7500", "Holstebro", "Nørregade"},
	{"0740", "8600", "Silkeborg", "Søndergade"},
	{"0791", "8800", "Viborg", "Sct. Mathias Gade"},
	{"0615", "8700", "Horsens", "Borgergade"},
	{"0101", "2300", "København S", "Amagerbrogade"},
	{"0147", "2000", "Frederiksberg", "Falkoner Allé"},
	{"0461", "5000", "Odense C", "Kongensgade"},
	{"0630", "7100", "Vejle", "Dæmningen"},
	{"0561", "6700", "Esbjerg", "Kongensgade"},
	{"0621", "6000", "Kolding", "Jernbanegade"},
	{"0851", "9000", "Aalborg", "Boulevarden"},
	{"0813", "9900", "Frederikshavn", "Danmarksgade"},
	{"0265", "4000", "Roskilde", "Algade"},
	{"0400", "3700", "Rønne", "Storegade"},
}

// Clearly fictional names: Danish first names with invented surnames.
var (
	demoFirstNames = []string{"Ane", "Bo", "Cecilie", "Dennis", "Ellen", "Frederik", "Gry", "Hans", "Ida", "Jens",
		"Karen", "Lars", "Maja", "Niels", "Olivia", "Poul", "Rikke", "Søren", "Tove", "Ulrik", "Vibeke", "William"}
	demoSurnames = []string{"Prøvesen", "Eksempelsen", "Demosen", "Fiktivsen", "Testrup", "Opdigtsen", "Attrapsen", "Påskudsen"}
)

// demoPerson is one person of the demo and what the demo expects.
type demoPerson struct {
	rec *record.Record
	// label says in a few words who this is, for the summary.
	label string
}

// demoScenario is the incident's people, by who registers them.
type demoScenario struct {
	incident record.Incident
	epc      []demoPerson
	police   []demoPerson
	crisis   []demoPerson
	// badPolice is the index in police of the person whose CPR number the
	// police list mistypes as badCPR (30 February): the gateway refuses
	// that item alone.
	badPolice int
	badCPR    string
}

// newDemoScenario builds the people from the fixed seed and the times from
// now; ids come from newID (record ids must be fresh on every run).
func newDemoScenario(now time.Time, newID func() string) demoScenario {
	rng := rand.New(rand.NewPCG(demoSeed, demoSeed))
	dk := clock.Danish()
	occurred := now.Add(-3 * time.Hour).Truncate(time.Minute).In(dk)
	y, m, d := clock.DanishDay(occurred)
	inc := record.Incident{
		ID:    fmt.Sprintf("MJ-%04d-%02d%02d-%02d%02d-HERNING-BRAND", y, m, d, occurred.Hour(), occurred.Minute()),
		Title: "Brand på spillested, Herning centrum", Kind: record.KindFire, OccurredAt: &occurred,
		MunicipalityCode: demoIncidentMunicipality, RegionCode: demoIncidentRegion,
	}
	expires := time.Date(y+1, m, 1, 0, 0, 0, 0, dk)
	s := demoScenario{incident: inc}
	at := func(minutes int) *time.Time {
		t := occurred.Add(time.Duration(minutes) * time.Minute)
		return &t
	}
	used := map[string]bool{}
	person := func(minAge, maxAge int, res demoResidence) *record.Person {
		for {
			first := demoFirstNames[rng.IntN(len(demoFirstNames))]
			last := demoSurnames[rng.IntN(len(demoSurnames))]
			age := minAge + rng.IntN(maxAge-minAge+1)
			birth := time.Date(y-age-1, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365))
			cpr := demoCPR(rng, birth)
			if used[cpr] {
				continue
			}
			used[cpr] = true
			bd := record.Date{Year: birth.Year(), Month: birth.Month(), Day: birth.Day()}
			mail := strings.ToLower(demoASCII(first) + "." + demoASCII(last) + "@example.dk")
			p := &record.Person{CPR: cpr, Name: first + " " + last, BirthDate: &bd,
				Phone: fmt.Sprintf("+45%d%07d", 2+rng.IntN(2), rng.IntN(10_000_000)), Email: mail, Language: "da"}
			if res.code != "" {
				p.Address = &record.Address{Street: fmt.Sprintf("%s %d", res.street, 1+rng.IntN(120)), PostalCode: res.postal,
					City: res.city, MunicipalityCode: res.code}
			}
			return p
		}
	}
	granted := true
	notGranted := false
	followUp := func(grants ...record.Grant) *record.FollowUp {
		return &record.FollowUp{Granted: &granted, Grants: grants, ExpiresAt: &expires}
	}
	grant := func(role record.RecipientRole, purpose record.Purpose, chans ...record.Channel) record.Grant {
		return record.Grant{Recipient: role, Purposes: []record.Purpose{purpose}, Channels: chans}
	}
	newRecord := func(by string, role record.RegistrarRole, site record.Site, minutes int) *record.Record {
		in := inc
		in.Site = site
		return &record.Record{Schema: record.SchemaV1, RecordID: newID(), Version: 1, Incident: &in,
			Registered: &record.Registered{At: at(minutes), ByAuthority: by, ByRole: role}}
	}
	obtained := func(by string, role record.RegistrarRole, minutes int, ref string) *record.Obtained {
		return &record.Obtained{By: &record.ObtainedBy{Authority: by, Role: role}, At: at(minutes),
			Method: record.MethodVerbalDocumented, EvidenceRef: ref}
	}
	priorities := []record.Priority{record.PriorityDays, record.PriorityWeeks, record.PriorityDays, record.PriorityAcute}

	// The EPC: 40 people, most of them affected, with the consent each gave.
	for i := range demoEPCPersons {
		minutes := 45 + 3*i
		r := newRecord(demoRegion, record.RoleKOP, record.SiteEPC, minutes)
		r.Relation = &record.Relation{Type: record.RelationAffected}
		ref := fmt.Sprintf("EPC-HER-%04d", i+1)
		res := demoResidences[i%len(demoResidences)]
		label := "affected"
		switch {
		case i == 5 || i == 18 || i == 31:
			// Refused to be registered: only what a count needs is kept.
			r.Relation.Type = record.RelationBystander
			r.Consent = &record.Consent{Registration: record.RegistrationRefused, GivenBy: record.GivenBySelf,
				Obtained: obtained(demoRegion, record.RoleKOP, minutes, ref)}
			s.epc = append(s.epc, demoPerson{rec: r, label: "refused registration"})
			continue
		case i == 7 || i == 22:
			r.Person = person(18, 80, res)
			r.Relation.Type = record.RelationWitness
			r.Assessment = &record.Assessment{FollowUpPriority: record.PriorityNone}
			r.Consent = &record.Consent{Registration: record.RegistrationGranted, GivenBy: record.GivenBySelf,
				FollowUp: &record.FollowUp{Granted: &notGranted}, Obtained: obtained(demoRegion, record.RoleKOP, minutes, ref)}
			s.epc = append(s.epc, demoPerson{rec: r, label: "witness, no follow-up wanted"})
			continue
		case i == 15:
			// Lives abroad: no residence municipality.
			r.Person = person(25, 60, demoResidence{})
			r.Person.Name = "Sven Påhittsson"
			r.Person.CPR, r.Person.Language, r.Person.Phone = "", "sv", "+46701234567"
			r.Person.Address = &record.Address{Street: "Storgatan 7", PostalCode: "41301", City: "Göteborg", Country: "SE"}
			label = "tourist living in Sweden"
		case i == 26:
			// A child: the mother consented as guardian.
			r.Person = person(8, 11, res)
			r.Person.Phone, r.Person.Email = "", ""
			r.Assessment = &record.Assessment{FollowUpPriority: record.PriorityDays, Notes: "Mistede sin far af syne i mængden; grådlabil, sover uroligt."}
			r.Consent = &record.Consent{Registration: record.RegistrationGranted, GivenBy: record.GivenByGuardian,
				Guardian: &record.Guardian{Name: "Mor " + strings.Fields(r.Person.Name)[1], Relation: record.GuardianParent, Phone: "+4522001122"},
				FollowUp: followUp(grant(record.RecipientResidenceMunicipality, record.PurposeFollowUp, record.ChannelPhone)),
				Obtained: obtained(demoRegion, record.RoleKOP, minutes, ref)}
			s.epc = append(s.epc, demoPerson{rec: r, label: "child, guardian consented"})
			continue
		case i >= 38:
			r.Person = person(20, 55, res)
			r.Relation.Type = record.RelationStaff
			label = "staff of the venue"
		default:
			r.Person = person(16, 85, res)
		}
		if i == 11 {
			r.Person.AddressProtected = true
			label = "affected, protected address"
		}
		r.Assessment = &record.Assessment{FollowUpPriority: priorities[i%len(priorities)],
			Notes: "Røgpåvirket ved evakueringen; rystet, svært ved at falde til ro."}
		var fu *record.FollowUp
		switch {
		case i%10 == 3:
			fu = followUp(grant(record.RecipientResidenceMunicipality, record.PurposeFollowUp, record.ChannelPhone, record.ChannelDigitalPost),
				grant(record.RecipientResidenceRegion, record.PurposePsychiatricFollowUp, record.ChannelPhone))
			label += ", psychiatric follow-up by the region"
		case i%9 == 4:
			fu = followUp(grant(record.RecipientResidenceMunicipality, record.PurposeSupportInformation, record.ChannelDigitalPost))
			label += ", information only"
		case i == 15:
			fu = followUp(grant(record.RecipientIncidentMunicipality, record.PurposeFollowUp, record.ChannelPhone, record.ChannelEmail))
		default:
			fu = followUp(grant(record.RecipientResidenceMunicipality, record.PurposeFollowUp, record.ChannelPhone, record.ChannelDigitalPost),
				grant(record.RecipientResidenceRegion, record.PurposeFollowUp, record.ChannelPhone))
		}
		r.Consent = &record.Consent{Registration: record.RegistrationGranted, GivenBy: record.GivenBySelf, FollowUp: fu,
			Obtained: obtained(demoRegion, record.RoleKOP, minutes, ref)}
		s.epc = append(s.epc, demoPerson{rec: r, label: label})
	}

	// The police list: who was at the scene, no consent asked.
	s.badPolice = 9
	for i := range demoPolicePersons {
		r := newRecord(demoPolice, record.RolePolice, record.SiteScene, 20+2*i)
		r.Person = person(18, 75, demoResidences[(i*5)%len(demoResidences)])
		r.Person.Email = ""
		r.Relation = &record.Relation{Type: []record.RelationType{record.RelationWitness, record.RelationAffected, record.RelationBystander}[i%3]}
		r.Consent = &record.Consent{Registration: record.RegistrationNotObtained}
		label := "at the scene (police list)"
		if i == s.badPolice {
			// 30 February: a typing error in the CPR number.
			s.badCPR = "3002" + r.Person.CPR[4:]
			label = "mistyped CPR number"
		}
		s.police = append(s.police, demoPerson{rec: r, label: label})
	}

	// Herning Kommune's crisis team: callers to its hotline the same evening.
	for i := range demoCrisisTeamPersons {
		minutes := 150 + 5*i
		r := newRecord(demoCrisisTeam, record.RoleCrisisTeam, record.SiteHotline, minutes)
		ref := fmt.Sprintf("KT-HER-%03d", i+1)
		r.Relation = &record.Relation{Type: record.RelationRelative, Kinship: []record.Kinship{record.KinshipParent, record.KinshipPartner, record.KinshipSibling}[i%3]}
		if i == 4 {
			r.Consent = &record.Consent{Registration: record.RegistrationRefused, GivenBy: record.GivenBySelf,
				Obtained: obtained(demoCrisisTeam, record.RoleCrisisTeam, minutes, ref)}
			s.crisis = append(s.crisis, demoPerson{rec: r, label: "refused registration"})
			continue
		}
		r.Person = person(30, 70, demoResidences[(i*3+1)%len(demoResidences)])
		r.Assessment = &record.Assessment{FollowUpPriority: record.PriorityWeeks}
		r.Consent = &record.Consent{Registration: record.RegistrationGranted, GivenBy: record.GivenBySelf,
			FollowUp: followUp(grant(record.RecipientResidenceMunicipality, record.PurposeFollowUp, record.ChannelPhone, record.ChannelEmail)),
			Obtained: obtained(demoCrisisTeam, record.RoleCrisisTeam, minutes, ref)}
		s.crisis = append(s.crisis, demoPerson{rec: r, label: "relative, called the hotline"})
	}
	return s
}

// demoCPR makes a CPR number for a birth date: the date digits, then a
// seventh digit that gives the century, then three more (no modulus-11
// check: numbers since 2007 need not pass it).
func demoCPR(rng *rand.Rand, birth time.Time) string {
	var seventh int
	switch {
	case birth.Year() < 2000:
		seventh = rng.IntN(4) // 0-3: 19YY
	default:
		seventh = 4 // 4: 20YY for YY <= 36
	}
	return fmt.Sprintf("%02d%02d%02d%d%03d", birth.Day(), int(birth.Month()), birth.Year()%100, seventh, rng.IntN(1000))
}

// demoASCII turns a name into the letters of an e-mail address.
func demoASCII(s string) string {
	return strings.NewReplacer("æ", "ae", "ø", "oe", "å", "aa", "Æ", "Ae", "Ø", "Oe", "Å", "Aa", "ä", "a", "ö", "o").Replace(s)
}
