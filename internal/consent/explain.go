package consent

// Explanation says, in Danish and English, why the check withheld a
// decision: the words of the sender's status view. The English text is the
// one Decision.String uses; an unknown check is said to be unexplained.
func (c Check) Explanation() Text {
	da := map[Check]string{
		CheckConsentWithdrawn:        "personen har trukket sit samtykke tilbage, hvilket stopper al videregivelse",
		CheckRegistrationRefused:     "personen har afvist registrering",
		CheckRegistrationNotObtained: "der er ikke dokumenteret samtykke, så intet der kræver samtykke videregives",
		CheckFollowUpNotGranted:      "personen har ikke givet samtykke til opfølgende kontakt",
		CheckConsentExpired:          "samtykket til opfølgende kontakt er udløbet",
		CheckRecipientNotConsented:   "samtykket til opfølgende kontakt omfatter ikke denne modtagerrolle",
		CheckPurposeNotConsented:     "samtykket til opfølgende kontakt omfatter ikke dette formål",
		CheckFollowUpRefused:         "personen har afvist opfølgende kontakt, og reglen respekterer afvisningen",
		CheckIncidentTimeUnknown:     "registreringen angiver ikke, hvornår hændelsen skete, så hændelsesperioden kan ikke fastslås",
		CheckIncidentPeriodEnded:     "den hændelsesperiode, som hjemlen dækker, er udløbet",
		CheckNoRule:                  "ingen regel tillader det",
		CheckRecipientNotConfigured:  "modtagerens regionskode og CVR-nummer er endnu ikke konfigureret, så den kan ikke adresseres",
	}[c]
	if da == "" {
		da = "ukendt kontrol " + string(c)
	}
	return Text{DA: da, EN: c.explain()}
}
