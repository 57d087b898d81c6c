package consent

import (
	"strings"
	"testing"
)

// Every check that withholds a decision is explained in Danish and English.
func TestCheckExplanation(t *testing.T) {
	for _, c := range []Check{CheckNoRule, CheckConsentWithdrawn, CheckRegistrationRefused, CheckRegistrationNotObtained,
		CheckFollowUpNotGranted, CheckConsentExpired, CheckRecipientNotConsented, CheckPurposeNotConsented,
		CheckFollowUpRefused, CheckIncidentTimeUnknown, CheckIncidentPeriodEnded, CheckRecipientNotConfigured} {
		x := c.Explanation()
		if x.EN != c.explain() || strings.HasPrefix(x.EN, "unexplained") || x.DA == "" || strings.HasPrefix(x.DA, "ukendt") {
			t.Errorf("%s: %+v", c, x)
		}
	}
	if x := Check("made_up").Explanation(); x.DA != "ukendt kontrol made_up" || x.EN != "unexplained check made_up" {
		t.Errorf("an unknown check: %+v", x)
	}
}
