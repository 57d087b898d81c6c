package police

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
)

// headerIssue is a header rule that h breaks, naming the Hoved child.
type headerIssue struct {
	field int // index in headerShape
	rule  string
	msg   string
}

// Indexes of the Hoved children in headerShape.
const (
	hMessageID = iota
	hSender
	hRecipient
	hIssued
	hExpires
	hReference
)

// headerIssues checks a header: the same rules for Decode and Encode.
func headerIssues(h *adapters.Header) []headerIssue {
	var out []headerIssue
	add := func(f int, rule, msg string) { out = append(out, headerIssue{f, rule, msg}) }
	pattern := func(f int, v string, ok bool, what string) bool {
		switch {
		case v == "":
			add(f, "schema.required", "is required")
			return false
		case !ok:
			add(f, "schema.pattern", "is not "+what)
			return false
		}
		return true
	}
	pattern(hMessageID, h.MessageID, reUUID.MatchString(h.MessageID), "a lower-case UUID")
	senderOK := pattern(hSender, h.Sender, reAuthority.MatchString(h.Sender), "an authority id such as police:nordjylland or gateway")
	recipientOK := pattern(hRecipient, h.Recipient, reAuthority.MatchString(h.Recipient), "an authority id such as police:nordjylland or gateway")
	if h.IssuedAt.IsZero() {
		add(hIssued, "schema.required", "is required")
	}
	if h.ExpiresAt.IsZero() {
		add(hExpires, "schema.required", "is required")
	}
	if !h.IssuedAt.IsZero() && !h.ExpiresAt.IsZero() && !h.ExpiresAt.After(h.IssuedAt) {
		add(hExpires, "header.expiry", "must be after Udstedt")
	}
	fromPolice := senderOK && strings.HasPrefix(h.Sender, policePrefix)
	if h.SenderReference != "" && !reJournal.MatchString(h.SenderReference) {
		add(hReference, "schema.pattern", "is not a police journal number such as 5100-80150-00043-26")
	} else if h.SenderReference == "" && fromPolice {
		add(hReference, "schema.required", "is required when the sender is a police district")
	}
	if senderOK && recipientOK {
		switch {
		case fromPolice && h.Recipient != gatewayID:
			add(hRecipient, "header.direction", "must be gateway: a police district sends its messages to the gateway")
		case h.Sender == gatewayID && !strings.HasPrefix(h.Recipient, policePrefix):
			add(hRecipient, "header.direction", "must be a police district: the gateway sends the police format only to the police")
		case !fromPolice && h.Sender != gatewayID:
			add(hSender, "header.direction", "must be a police district or the gateway: only they exchange the police format")
		}
	}
	return out
}

func (d *decoder) header(el *etree.Element) *adapters.Header {
	var c [len(headerShape)]*etree.Element
	d.scan(el, headerShape[:], c[:], false)
	h := &adapters.Header{}
	h.MessageID = d.patterned(c[hMessageID], reUUID, "a lower-case UUID")
	h.Sender = d.patterned(c[hSender], reAuthority, "an authority id such as police:nordjylland or gateway")
	h.Recipient = d.patterned(c[hRecipient], reAuthority, "an authority id such as police:nordjylland or gateway")
	if t := d.dateTime(c[hIssued]); t != nil {
		h.IssuedAt = *t
	}
	if t := d.dateTime(c[hExpires]); t != nil {
		h.ExpiresAt = *t
	}
	h.SenderReference = d.patterned(c[hReference], reJournal, "a police journal number such as 5100-80150-00043-26")
	for _, is := range headerIssues(h) {
		path, line := d.resolve(el, []string{headerShape[is.field].name}, -1)
		d.addUnique(problem(path, line, is.rule, is.msg))
	}
	return h
}
