package refdata

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"time"
)

// embedded holds the data files; SOURCES.md travels with them.
//
//go:embed data/*.csv data/SOURCES.md
var embedded embed.FS

// ErrInvalidConfig is wrapped by the errors Load returns for a bad Config.
var ErrInvalidConfig = errors.New("invalid refdata configuration")

// The counts the data must have; Load refuses anything else.
const (
	wantMunicipalities = 98
	wantRegions        = 5 // in regions.csv, i.e. before the 2027 reform
	wantDistricts      = 12
)

// File names inside data/.
const (
	fileMunicipalities  = "data/municipalities.csv"
	fileRegions         = "data/regions.csv"
	fileDistricts       = "data/police_districts.csv"
	fileCVR             = "data/authorities_cvr.csv"
	fileRegionChanges   = "data/region_changes.csv"
	fileOutsideDivision = "data/outside_division.csv"
)

// successorEast is the successor_key in region_changes.csv whose code and CVR come
// from Config.EastRegionCode and Config.EastRegionCVR.
const successorEast = "east"

// districtIDPattern is the form of a police district id.
var districtIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Load parses the embedded reference data, checks it (98 municipalities, 5 regions
// plus the 2027 successor, 12 police districts covering every municipality exactly
// once, a valid and unique CVR number for every authority) and applies cfg, which it
// validates too. A bad cfg gives an error wrapping ErrInvalidConfig.
func Load(cfg Config) (*Data, error) {
	return load(embedded, cfg)
}

// load is Load over any file system, so that tests can feed it broken data.
func load(fsys fs.FS, cfg Config) (*Data, error) {
	d := &Data{
		municipalityIdx:  map[string]int{},
		municipalityName: map[string]int{},
		regionIdx:        map[string]int{},
		regionName:       map[string]int{},
		districtIx:       map[string]int{},
		districtOf:       map[string]int{},
	}
	steps := []func(fs.FS) error{
		d.loadRegions,
		d.loadMunicipalities,
		d.loadCVR,
		d.loadDistricts,
		d.loadOutsideDivision,
	}
	for _, step := range steps {
		if err := step(fsys); err != nil {
			return nil, fmt.Errorf("refdata: %w", err)
		}
	}
	if err := validateConfig(cfg, d); err != nil {
		return nil, fmt.Errorf("refdata: %w", err)
	}
	if err := d.loadRegionChanges(fsys, cfg); err != nil {
		return nil, fmt.Errorf("refdata: %w", err)
	}
	if err := d.indexNames(); err != nil {
		return nil, fmt.Errorf("refdata: %w", err)
	}
	return d, nil
}

// loadRegions reads regions.csv.
func (d *Data) loadRegions(fsys fs.FS) error {
	rows, err := readCSV(fsys, fileRegions, "code", "name")
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		code, name := row.fields[0], row.fields[1]
		switch {
		case !isCanonicalCode(code):
			errs = append(errs, row.errorf("region code %q: must be 4 digits", code))
		case name == "":
			errs = append(errs, row.errorf("region %s: empty name", code))
		default:
			if _, dup := d.regionIdx[code]; dup {
				errs = append(errs, row.errorf("region code %s: duplicate", code))
				continue
			}
			d.regionIdx[code] = len(d.regions)
			d.regions = append(d.regions, Region{Code: code, Name: name, CodeConfigured: true})
			d.regionSucc = append(d.regionSucc, -1)
		}
	}
	if len(d.regions) != wantRegions && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: %d regions, want %d", fileRegions, len(d.regions), wantRegions))
	}
	return errors.Join(errs...)
}

// loadMunicipalities reads municipalities.csv; regions must be loaded.
func (d *Data) loadMunicipalities(fsys fs.FS) error {
	rows, err := readCSV(fsys, fileMunicipalities, "code", "name", "region_code")
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		code, err := NormalizeMunicipalityCode(row.fields[0])
		if err != nil {
			errs = append(errs, row.errorf("%w", err))
			continue
		}
		name, region := row.fields[1], row.fields[2]
		_, regionKnown := d.regionIdx[region]
		switch {
		case code == OutsideMunicipalDivision:
			errs = append(errs, row.errorf("code %s is outside the municipal division and cannot be a municipality", code))
		case name == "":
			errs = append(errs, row.errorf("municipality %s: empty name", code))
		case !regionKnown:
			errs = append(errs, row.errorf("municipality %s: unknown region code %q", code, region))
		default:
			if _, dup := d.municipalityIdx[code]; dup {
				errs = append(errs, row.errorf("municipality code %s: duplicate", code))
				continue
			}
			d.municipalityIdx[code] = len(d.municipalities)
			d.municipalities = append(d.municipalities, Municipality{Code: code, Name: name, RegionCode: region})
		}
	}
	if len(d.municipalities) != wantMunicipalities && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: %d municipalities, want %d", fileMunicipalities, len(d.municipalities), wantMunicipalities))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	slices.SortFunc(d.municipalities, func(a, b Municipality) int { return strings.Compare(a.Code, b.Code) })
	for i, m := range d.municipalities {
		d.municipalityIdx[m.Code] = i
	}
	return nil
}

// loadCVR reads authorities_cvr.csv; regions and municipalities must be loaded. It
// also remembers Rigspolitiet's CVR number for the police districts.
func (d *Data) loadCVR(fsys fs.FS) error {
	rows, err := readCSV(fsys, fileCVR, "kind", "code", "name", "cvr", "source")
	if err != nil {
		return err
	}
	var errs []error
	seen := map[string]string{} // CVR -> what it was first given to
	rigspolitiet := ""
	for _, row := range rows {
		kind, code, name, cvr := row.fields[0], row.fields[1], row.fields[2], row.fields[3]
		what := kind + " " + code
		if err := checkCVR(cvr); err != nil {
			errs = append(errs, row.errorf("%s: %w", what, err))
			continue
		}
		if first, dup := seen[cvr]; dup {
			errs = append(errs, row.errorf("%s: CVR %s already given to %s", what, cvr, first))
			continue
		}
		seen[cvr] = what
		switch kind {
		case "municipality":
			c, err := NormalizeMunicipalityCode(code)
			if err != nil {
				errs = append(errs, row.errorf("%w", err))
				continue
			}
			i, ok := d.municipalityIdx[c]
			switch {
			case !ok:
				errs = append(errs, row.errorf("unknown municipality %s", c))
			case d.municipalities[i].CVR != "":
				errs = append(errs, row.errorf("municipality %s: second CVR row", c))
			case name == "":
				errs = append(errs, row.errorf("municipality %s: empty name", c))
			default:
				d.municipalities[i].CVR = cvr
				d.municipalities[i].AuthorityName = name
			}
		case "region":
			i, ok := d.regionIdx[code]
			switch {
			case !ok:
				errs = append(errs, row.errorf("unknown region %q", code))
			case d.regions[i].CVR != "":
				errs = append(errs, row.errorf("region %s: second CVR row", code))
			default:
				d.regions[i].CVR = cvr
			}
		case "police":
			if code != "rigspolitiet" || rigspolitiet != "" {
				errs = append(errs, row.errorf("police: want exactly one row with code rigspolitiet, got %q", code))
				continue
			}
			rigspolitiet = cvr
		default:
			errs = append(errs, row.errorf("unknown kind %q", kind))
		}
	}
	for _, m := range d.municipalities {
		if m.CVR == "" {
			errs = append(errs, fmt.Errorf("%s: no CVR for municipality %s %s", fileCVR, m.Code, m.Name))
		}
	}
	for _, r := range d.regions {
		if r.CVR == "" {
			errs = append(errs, fmt.Errorf("%s: no CVR for region %s %s", fileCVR, r.Code, r.Name))
		}
	}
	if rigspolitiet == "" {
		errs = append(errs, fmt.Errorf("%s: no CVR for Rigspolitiet", fileCVR))
	}
	d.policeCVR = rigspolitiet
	return errors.Join(errs...)
}

// loadDistricts reads police_districts.csv; municipalities and CVRs must be loaded.
func (d *Data) loadDistricts(fsys fs.FS) error {
	rows, err := readCSV(fsys, fileDistricts, "district_id", "name", "municipality_code")
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		id, name := row.fields[0], row.fields[1]
		code, err := NormalizeMunicipalityCode(row.fields[2])
		if err != nil {
			errs = append(errs, row.errorf("%w", err))
			continue
		}
		if !districtIDPattern.MatchString(id) {
			errs = append(errs, row.errorf("district id %q: must match %s", id, districtIDPattern))
			continue
		}
		mi, ok := d.municipalityIdx[code]
		if !ok {
			errs = append(errs, row.errorf("district %s: unknown municipality %s", id, code))
			continue
		}
		if prev, dup := d.districtOf[code]; dup {
			errs = append(errs, row.errorf("municipality %s is in both %s and %s", code, d.districts[prev].ID, id))
			continue
		}
		di, ok := d.districtIx[id]
		if !ok {
			if name == "" {
				errs = append(errs, row.errorf("district %s: empty name", id))
				continue
			}
			di = len(d.districts)
			d.districtIx[id] = di
			d.districts = append(d.districts, PoliceDistrict{ID: id, Name: name, CVR: d.policeCVR})
		} else if d.districts[di].Name != name {
			errs = append(errs, row.errorf("district %s: name %q differs from %q", id, name, d.districts[di].Name))
			continue
		}
		d.districtOf[code] = di
		d.districts[di].MunicipalityCodes = append(d.districts[di].MunicipalityCodes, code)
		d.municipalities[mi].PoliceDistrict = id
	}
	for _, m := range d.municipalities {
		if m.PoliceDistrict == "" {
			errs = append(errs, fmt.Errorf("%s: municipality %s %s is in no district", fileDistricts, m.Code, m.Name))
		}
	}
	if len(d.districts) != wantDistricts && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: %d districts, want %d", fileDistricts, len(d.districts), wantDistricts))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	slices.SortFunc(d.districts, func(a, b PoliceDistrict) int { return strings.Compare(a.ID, b.ID) })
	for i := range d.districts {
		slices.Sort(d.districts[i].MunicipalityCodes)
		d.districtIx[d.districts[i].ID] = i
		for _, c := range d.districts[i].MunicipalityCodes {
			d.districtOf[c] = i
		}
	}
	return nil
}

// loadOutsideDivision reads outside_division.csv; districts must be loaded.
func (d *Data) loadOutsideDivision(fsys fs.FS) error {
	rows, err := readCSV(fsys, fileOutsideDivision, "code", "police_district")
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		code, err := NormalizeMunicipalityCode(row.fields[0])
		if err != nil {
			errs = append(errs, row.errorf("%w", err))
			continue
		}
		id := row.fields[1]
		di, ok := d.districtIx[id]
		switch {
		case code != OutsideMunicipalDivision:
			errs = append(errs, row.errorf("code %s: only %s is known to be outside the municipal division", code, OutsideMunicipalDivision))
		case !ok:
			errs = append(errs, row.errorf("code %s: unknown police district %q", code, id))
		default:
			if _, dup := d.districtOf[code]; dup {
				errs = append(errs, row.errorf("code %s: duplicate", code))
				continue
			}
			d.districtOf[code] = di
		}
	}
	return errors.Join(errs...)
}

// validateConfig checks cfg against the loaded data.
func validateConfig(cfg Config, d *Data) error {
	code, cvr := cfg.EastRegionCode, cfg.EastRegionCVR
	switch {
	case code == "" && cvr == "":
		return nil
	case code == "" || cvr == "":
		return fmt.Errorf("%w: EastRegionCode %q and EastRegionCVR %q must be set together", ErrInvalidConfig, code, cvr)
	case !isCanonicalCode(code):
		return fmt.Errorf("%w: EastRegionCode %q: must be exactly 4 digits", ErrInvalidConfig, code)
	case code == OutsideMunicipalDivision:
		return fmt.Errorf("%w: EastRegionCode %q: is the code of Ertholmene", ErrInvalidConfig, code)
	}
	if _, ok := d.regionIdx[code]; ok {
		return fmt.Errorf("%w: EastRegionCode %q: already the code of a region", ErrInvalidConfig, code)
	}
	if m, ok := d.municipalityIdx[code]; ok {
		return fmt.Errorf("%w: EastRegionCode %q: already the code of %s municipality", ErrInvalidConfig, code, d.municipalities[m].Name)
	}
	if err := checkCVR(cvr); err != nil {
		return fmt.Errorf("%w: EastRegionCVR: %w", ErrInvalidConfig, err)
	}
	return nil
}

// loadRegionChanges reads region_changes.csv and adds the successor regions; cfg must
// be valid. The successor of a change is identified by its key until its code is known.
func (d *Data) loadRegionChanges(fsys fs.FS, cfg Config) error {
	rows, err := readCSV(fsys, fileRegionChanges, "predecessor_code", "successor_key", "successor_name", "effective_from")
	if err != nil {
		return err
	}
	var errs []error
	successors := map[string]int{} // successor key -> index in d.regions
	for _, row := range rows {
		pred, key, name, from := row.fields[0], row.fields[1], row.fields[2], row.fields[3]
		at, err := time.Parse(time.RFC3339, from)
		if err != nil {
			errs = append(errs, row.errorf("effective_from %q: must be RFC 3339 with an offset: %w", from, err))
			continue
		}
		pi, ok := d.regionIdx[pred]
		switch {
		case !ok:
			errs = append(errs, row.errorf("unknown predecessor region %q", pred))
			continue
		case !d.regions[pi].Valid.To.IsZero():
			errs = append(errs, row.errorf("region %s ceases twice", pred))
			continue
		case key != successorEast:
			errs = append(errs, row.errorf("unknown successor_key %q (known: %s)", key, successorEast))
			continue
		case name == "":
			errs = append(errs, row.errorf("empty successor_name"))
			continue
		}
		si, ok := successors[key]
		if !ok {
			si = len(d.regions)
			successors[key] = si
			r := Region{Name: name, Valid: Period{From: at}}
			if cfg.EastRegionCode != "" {
				r.Code, r.CVR, r.CodeConfigured = cfg.EastRegionCode, cfg.EastRegionCVR, true
			}
			d.regions = append(d.regions, r)
			d.regionSucc = append(d.regionSucc, -1)
		}
		s := &d.regions[si]
		if s.Name != name || !s.Valid.From.Equal(at) {
			errs = append(errs, row.errorf("successor %s: name %q or date %s differs from an earlier row", key, name, from))
			continue
		}
		// A successor must begin after its predecessor does, which also keeps the
		// succession acyclic.
		if p := d.regions[pi].Valid.From; !p.IsZero() && !p.Before(at) {
			errs = append(errs, row.errorf("region %s would cease before it begins", pred))
			continue
		}
		d.regions[pi].Valid.To = at
		d.regions[pi].Successor = s.Code
		d.regionSucc[pi] = si
		s.Predecessors = append(s.Predecessors, pred)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Sort configured regions by code and unconfigured ones last, keeping the
	// successor links.
	order := make([]int, len(d.regions))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := d.regions[a], d.regions[b]
		if ra.CodeConfigured != rb.CodeConfigured {
			if ra.CodeConfigured {
				return -1
			}
			return 1
		}
		return strings.Compare(ra.Code, rb.Code)
	})
	newIndex := make([]int, len(order))
	for to, from := range order {
		newIndex[from] = to
	}
	regions := make([]Region, len(order))
	succ := make([]int, len(order))
	for to, from := range order {
		regions[to] = d.regions[from]
		slices.Sort(regions[to].Predecessors)
		succ[to] = -1
		if s := d.regionSucc[from]; s >= 0 {
			succ[to] = newIndex[s]
		}
	}
	d.regions, d.regionSucc = regions, succ
	clear(d.regionIdx)
	for i, r := range d.regions {
		if r.CodeConfigured {
			d.regionIdx[r.Code] = i
		}
	}
	return nil
}

// indexNames builds the name indexes and refuses names that two entries share.
func (d *Data) indexNames() error {
	var errs []error
	for i, m := range d.municipalities {
		for _, n := range []string{m.Name, m.Name + " Kommune", m.AuthorityName} {
			k := foldName(n)
			if j, dup := d.municipalityName[k]; dup && j != i {
				errs = append(errs, fmt.Errorf("name %q is shared by municipalities %s and %s", n, d.municipalities[j].Code, m.Code))
			}
			d.municipalityName[k] = i
		}
	}
	for i, r := range d.regions {
		names := []string{r.Name}
		if short, ok := strings.CutPrefix(r.Name, "Region "); ok {
			names = append(names, short)
		}
		for _, n := range names {
			k := foldName(n)
			if j, dup := d.regionName[k]; dup && j != i {
				errs = append(errs, fmt.Errorf("name %q is shared by two regions (%s, %s)", n, d.regions[j].Name, r.Name))
			}
			d.regionName[k] = i
		}
	}
	return errors.Join(errs...)
}

// csvRow is one data row of a CSV file, with its position for error messages.
type csvRow struct {
	file   string
	line   int
	fields []string
}

// errorf returns an error naming the file and line of the row.
func (r csvRow) errorf(format string, args ...any) error {
	return fmt.Errorf("%s line %d: %w", r.file, r.line, fmt.Errorf(format, args...))
}

// readCSV reads a UTF-8 CSV file whose header must be exactly header. Lines starting
// with # are comments.
func readCSV(fsys fs.FS, name string, header ...string) ([]csvRow, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	r.FieldsPerRecord = len(header)
	got, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	if !slices.Equal(got, header) {
		return nil, fmt.Errorf("%s: header %q, want %q", name, got, header)
	}
	var rows []csvRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, csvRow{file: name, line: line, fields: rec})
	}
}
