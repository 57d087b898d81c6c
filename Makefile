# Convenience targets; the README's commands work with plain Go too.
.PHONY: run test ci fuzz bench

run:
	go run ./gateway/cmd/gateway validate schemas/examples/*/valid/*

test:
	go test ./...

ci:
	bash .ci/run

FUZZTIME ?= 60s
fuzz:
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./adapters/region/
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./adapters/municipality/
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./adapters/police/
	go test -run='^$$' -fuzz=FuzzDecodeValidate -fuzztime=$(FUZZTIME) ./internal/record/
	go test -run='^$$' -fuzz=FuzzUnmarshal -fuzztime=$(FUZZTIME) ./internal/strictjson/
	go test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./internal/xmlsafe/
	go test -run='^$$' -fuzz=FuzzOpen -fuzztime=$(FUZZTIME) ./internal/envelope/
	go test -run='^$$' -fuzz=FuzzVerify -fuzztime=$(FUZZTIME) ./internal/xmlsig/
	go test -run='^$$' -fuzz=FuzzEvaluate -fuzztime=$(FUZZTIME) ./internal/consent/
	go test -run='^$$' -fuzz=FuzzParseLeaf -fuzztime=$(FUZZTIME) ./internal/journal/
	go test -run='^$$' -fuzz=FuzzVerify -fuzztime=$(FUZZTIME) ./internal/journal/

bench:
	go test -run='^$$' -bench=. -benchmem ./adapters/... ./internal/record/ ./internal/envelope/ ./internal/xmlsig/ ./internal/consent/ ./internal/journal/... ./certs/
