package pricing

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The data files' shapes. They differ from the public types where the files
// are terser (optional prices, shared provenance keys); load turns them into
// the public types and fills in defaults.

type provenanceDoc struct {
	AsOf   string `yaml:"as_of"`
	Source string `yaml:"source"`
	Note   string `yaml:"note"`
}

type providersDoc struct {
	Providers []providerDoc `yaml:"providers"`
}

type providerDoc struct {
	ID         string         `yaml:"id"`
	Name       string         `yaml:"name"`
	Regions    []Region       `yaml:"regions"`
	Residency  []residencyDoc `yaml:"residency"`
	Compliance struct {
		SOC2              *factDoc `yaml:"soc2"`
		HIPAABAA          *factDoc `yaml:"hipaa_baa"`
		ZeroDataRetention *factDoc `yaml:"zero_data_retention"`
	} `yaml:"compliance"`
}

type residencyDoc struct {
	ID            string   `yaml:"id"`
	Regions       []string `yaml:"regions"`
	Multiplier    float64  `yaml:"multiplier"`
	Models        []string `yaml:"models"`
	provenanceDoc `yaml:",inline"`
}

type factDoc struct {
	Value         string `yaml:"value"`
	provenanceDoc `yaml:",inline"`
}

type modelsDoc struct {
	Models []modelDoc `yaml:"models"`
}

type modelDoc struct {
	ID    string     `yaml:"id"`
	Name  string     `yaml:"name"`
	Hosts []offerDoc `yaml:"hosts"`
}

type offerDoc struct {
	Provider    string          `yaml:"provider"`
	ModelID     string          `yaml:"model_id"`
	Aliases     []string        `yaml:"aliases"`
	Regions     []string        `yaml:"regions"`
	Note        string          `yaml:"note"`
	Prices      *pricesDoc      `yaml:"prices"`
	LongContext *longContextDoc `yaml:"long_context"`
	Uplift      []upliftDoc     `yaml:"uplift"`
	AsOf        string          `yaml:"as_of"`
	Source      string          `yaml:"source"`
}

type pricesDoc struct {
	Input      *float64 `yaml:"input"`
	Output     *float64 `yaml:"output"`
	CacheRead  *float64 `yaml:"cache_read"`
	CacheWrite *float64 `yaml:"cache_write"`
	Reasoning  *float64 `yaml:"reasoning"`
}

type longContextDoc struct {
	Above     int `yaml:"above"`
	pricesDoc `yaml:",inline"`
}

type upliftDoc struct {
	Regions       []string `yaml:"regions"`
	Multiplier    float64  `yaml:"multiplier"`
	provenanceDoc `yaml:",inline"`
}

type gatewaysDoc struct {
	Gateways []gatewayDoc `yaml:"gateways"`
}

type gatewayDoc struct {
	ID       string       `yaml:"id"`
	Name     string       `yaml:"name"`
	Hosting  string       `yaml:"hosting"`
	Note     string       `yaml:"note"`
	Plans    []planDoc    `yaml:"plans"`
	SelfHost *selfHostDoc `yaml:"self_host"`
	// Compliance is required of hosted gateways, which hold request data.
	Compliance *struct {
		SOC2              *factDoc `yaml:"soc2"`
		ZeroDataRetention *factDoc `yaml:"zero_data_retention"`
	} `yaml:"compliance"`
}

type planDoc struct {
	ID                   string   `yaml:"id"`
	Name                 string   `yaml:"name"`
	BaseUSDMonth         float64  `yaml:"base_usd_month"`
	Estimate             bool     `yaml:"estimate"`
	PerModelUSDMonth     float64  `yaml:"per_model_usd_month"`
	IncludedRequests     int64    `yaml:"included_requests"`
	OverageUSDPerMillion float64  `yaml:"overage_usd_per_million"`
	RequestCap           int64    `yaml:"request_cap"`
	CreditFeePct         float64  `yaml:"credit_fee_pct"`
	BYOKFeePct           float64  `yaml:"byok_fee_pct"`
	BYOKFreeRequests     int64    `yaml:"byok_free_requests"`
	Seats                int      `yaml:"seats"`
	SSOSeatLimit         int      `yaml:"sso_seat_limit"`
	LogRetentionDays     int      `yaml:"log_retention_days"`
	LogStoreCap          int64    `yaml:"log_store_cap"`
	SSO                  bool     `yaml:"sso"`
	HIPAA                bool     `yaml:"hipaa"`
	AuditLog             bool     `yaml:"audit_log"`
	NoFailover           bool     `yaml:"no_failover"`
	Residency            []string `yaml:"residency"`
	SelfHosted           bool     `yaml:"self_hosted"`
	provenanceDoc        `yaml:",inline"`
}

type quantityDoc struct {
	Value         *float64 `yaml:"value"`
	provenanceDoc `yaml:",inline"`
}

type selfHostDoc struct {
	RPSPerInstance       quantityDoc `yaml:"rps_per_instance"`
	MinInstances         quantityDoc `yaml:"min_instances"`
	InstanceUSDMonth     quantityDoc `yaml:"instance_usd_month"`
	PostgresUSDMonth     quantityDoc `yaml:"postgres_usd_month"`
	RedisUSDMonth        quantityDoc `yaml:"redis_usd_month"`
	LogBytesPerRequest   quantityDoc `yaml:"log_bytes_per_request"`
	StorageUSDPerGBMonth quantityDoc `yaml:"storage_usd_per_gb_month"`
	DefaultRetentionDays quantityDoc `yaml:"default_retention_days"`
	PeakToAverage        quantityDoc `yaml:"peak_to_average"`
	OpsHoursMonth        quantityDoc `yaml:"ops_hours_month"`
}

// maxPerMillion bounds any token price: the dearest real model is a few
// hundred dollars per million tokens, so anything above is a unit mistake.
const maxPerMillion = 5000

// Load reads providers.yaml, models.yaml and gateways.yaml from fsys (either
// at its root or under data/), strictly: an unknown key, a missing as_of or
// source, a host on an unknown provider or region, or an impossible number
// is an error naming the file and line.
func Load(fsys fs.FS) (*Catalog, error) {
	if sub, err := fs.Sub(fsys, "data"); err == nil {
		if _, err := fs.Stat(sub, "providers.yaml"); err == nil {
			fsys = sub
		}
	}
	var l loader
	var pd providersDoc
	var md modelsDoc
	var gd gatewaysDoc
	if err := l.decode(fsys, "providers.yaml", &pd); err != nil {
		return nil, err
	}
	if err := l.decode(fsys, "models.yaml", &md); err != nil {
		return nil, err
	}
	if err := l.decode(fsys, "gateways.yaml", &gd); err != nil {
		return nil, err
	}
	c := &Catalog{}
	l.providers(c, pd)
	l.models(c, md)
	l.residencyModels(c, pd)
	l.gateways(c, gd)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	c.rates = buildRateTable(c)
	return c, nil
}

// loader collects every problem in the data files so one run shows them all.
type loader struct {
	roots map[string]*yaml.Node
	errs  []error
}

var (
	yamlLine   = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	yamlInType = regexp.MustCompile(` in type [\w.]+`)
)

func (l *loader) decode(fsys fs.FS, name string, v any) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			errs := make([]error, len(te.Errors))
			for i, e := range te.Errors {
				errs[i] = errors.New(name + ":" + strings.TrimPrefix(yamlInType.ReplaceAllString(yamlLine.ReplaceAllString(e, "$1: "), ""), ""))
			}
			return errors.Join(errs...)
		}
		return fmt.Errorf("%s:%s", name, yamlLine.ReplaceAllString(err.Error(), "$1: "))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if l.roots == nil {
		l.roots = map[string]*yaml.Node{}
	}
	l.roots[name] = &root
	return nil
}

// errorf records a problem at the node reached by path (map keys and list
// indexes) in file, so the message points at the line to fix.
func (l *loader) errorf(file string, path []any, format string, args ...any) {
	line := 0
	if n := nodeAt(l.roots[file], path); n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, fmt.Errorf("%s:%d: %s: %s", file, line, pathString(path), fmt.Sprintf(format, args...)))
}

func nodeAt(n *yaml.Node, path []any) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return n
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					n, found = n.Content[i+1], true
					break
				}
			}
			if !found {
				return n
			}
		case int:
			if n.Kind != yaml.SequenceNode || p >= len(n.Content) {
				return n
			}
			n = n.Content[p]
		}
	}
	return n
}

func pathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		}
	}
	return b.String()
}

func (l *loader) provenance(file string, path []any, p provenanceDoc) Provenance {
	l.checkDate(file, path, p.AsOf)
	if strings.TrimSpace(p.Source) == "" {
		l.errorf(file, path, "source is required")
	}
	return Provenance{AsOf: p.AsOf, Source: p.Source, Note: p.Note}
}

func (l *loader) checkDate(file string, path []any, asOf string) {
	if asOf == "" {
		l.errorf(file, path, "as_of is required")
		return
	}
	if _, err := time.Parse(time.DateOnly, asOf); err != nil {
		l.errorf(file, path, "as_of %q is not a date (YYYY-MM-DD)", asOf)
	}
}

func (l *loader) number(file string, path []any, v, lo, hi float64) {
	if math.IsNaN(v) || v < lo || v > hi {
		l.errorf(file, path, "%v is outside [%v, %v]", v, lo, hi)
	}
}

var factValues = []string{"yes", "no", "by-approval", "partial", "unknown"}

func (l *loader) providers(c *Catalog, d providersDoc) {
	const file = "providers.yaml"
	if len(d.Providers) == 0 {
		l.errorf(file, nil, "no providers")
	}
	seen := map[string]bool{}
	for i, pd := range d.Providers {
		path := []any{"providers", i}
		if pd.ID == "" || pd.Name == "" {
			l.errorf(file, path, "id and name are required")
		}
		if seen[pd.ID] {
			l.errorf(file, path, "duplicate provider %q", pd.ID)
		}
		seen[pd.ID] = true
		p := Provider{ID: pd.ID, Name: pd.Name, Regions: pd.Regions}
		if len(pd.Regions) == 0 {
			l.errorf(file, path, "a provider needs at least one region")
		}
		regions := map[string]bool{}
		for j, r := range pd.Regions {
			if r.ID == "" || r.Jurisdiction == "" || regions[r.ID] {
				l.errorf(file, append(path, "regions", j), "region needs a unique id and a jurisdiction")
			}
			regions[r.ID] = true
		}
		for j, rd := range pd.Residency {
			rp := append(slices.Clone(path), "residency", j)
			for _, r := range rd.Regions {
				if !regions[r] {
					l.errorf(file, rp, "unknown region %q of %s", r, pd.ID)
				}
			}
			l.number(file, rp, rd.Multiplier, 1, 10)
			p.Residency = append(p.Residency, Residency{
				ID: rd.ID, Regions: rd.Regions, Multiplier: rd.Multiplier, Models: rd.Models,
				Provenance: l.provenance(file, rp, rd.provenanceDoc),
			})
		}
		fact := func(key string, f *factDoc) Fact { return l.fact(file, path, key, f) }
		p.Compliance = Compliance{
			SOC2:              fact("soc2", pd.Compliance.SOC2),
			HIPAABAA:          fact("hipaa_baa", pd.Compliance.HIPAABAA),
			ZeroDataRetention: fact("zero_data_retention", pd.Compliance.ZeroDataRetention),
		}
		c.providers = append(c.providers, p)
	}
}

// fact reads one compliance fact at path's compliance.key, which must be
// present and have a known value.
func (l *loader) fact(file string, path []any, key string, f *factDoc) Fact {
	fp := append(slices.Clone(path), "compliance", key)
	if f == nil {
		l.errorf(file, fp, "compliance.%s is required", key)
		return Fact{}
	}
	if !slices.Contains(factValues, f.Value) {
		l.errorf(file, fp, "value %q is not one of %s", f.Value, strings.Join(factValues, ", "))
	}
	return Fact{Value: f.Value, Provenance: l.provenance(file, fp, f.provenanceDoc)}
}

func (l *loader) models(c *Catalog, d modelsDoc) {
	const file = "models.yaml"
	seen := map[string]bool{}
	for i, md := range d.Models {
		path := []any{"models", i}
		if md.ID == "" || md.Name == "" {
			l.errorf(file, path, "id and name are required")
		}
		if seen[md.ID] {
			l.errorf(file, path, "duplicate model %q", md.ID)
		}
		seen[md.ID] = true
		if len(md.Hosts) == 0 {
			l.errorf(file, path, "a model needs at least one host")
		}
		m := Model{ID: md.ID, Name: md.Name}
		for j, od := range md.Hosts {
			hp := append(slices.Clone(path), "hosts", j)
			p, ok := c.Provider(od.Provider)
			if !ok {
				l.errorf(file, append(hp, "provider"), "unknown provider %q", od.Provider)
				continue
			}
			if slices.Contains(m.Hosts, od.Provider) {
				l.errorf(file, hp, "provider %q listed twice", od.Provider)
			}
			if od.ModelID == "" {
				l.errorf(file, hp, "model_id is required")
			}
			o := Offer{Provider: od.Provider, ModelID: od.ModelID, Aliases: od.Aliases, Regions: od.Regions}
			if len(o.Regions) == 0 {
				for _, r := range p.Regions {
					o.Regions = append(o.Regions, r.ID)
				}
			}
			for _, r := range o.Regions {
				if _, ok := c.Jurisdiction(od.Provider, r); !ok {
					l.errorf(file, append(hp, "regions"), "unknown region %q of %s", r, od.Provider)
				}
			}
			if od.Prices == nil {
				l.errorf(file, hp, "prices are required")
				continue
			}
			o.Prices = l.prices(file, append(hp, "prices"), *od.Prices, nil)
			if lc := od.LongContext; lc != nil {
				lp := append(slices.Clone(hp), "long_context")
				if lc.Above <= 0 {
					l.errorf(file, lp, "above must be a positive token count")
				}
				o.LongContextAbove = lc.Above
				o.Long = l.prices(file, lp, lc.pricesDoc, &o.Prices)
			}
			for k, ud := range od.Uplift {
				up := append(slices.Clone(hp), "uplift", k)
				for _, r := range ud.Regions {
					if !slices.Contains(o.Regions, r) {
						l.errorf(file, up, "region %q is not served by this host", r)
					}
				}
				l.number(file, up, ud.Multiplier, 0.1, 10)
				o.Uplifts = append(o.Uplifts, Uplift{Regions: ud.Regions, Multiplier: ud.Multiplier, Provenance: l.provenance(file, up, ud.provenanceDoc)})
			}
			o.Provenance = l.provenance(file, hp, provenanceDoc{AsOf: od.AsOf, Source: od.Source, Note: od.Note})
			m.Hosts = append(m.Hosts, od.Provider)
			m.Offers = append(m.Offers, o)
		}
		c.models = append(c.models, m)
	}
	slices.SortFunc(c.models, func(a, b Model) int { return strings.Compare(a.ID, b.ID) })
}

// prices checks a price block and fills its defaults: cache reads and writes
// at the input price, reasoning at the output price. A long-context block
// (base != nil) must state input and output like the base block.
func (l *loader) prices(file string, path []any, d pricesDoc, base *TokenPrices) TokenPrices {
	get := func(key string, v *float64, def float64, required bool) float64 {
		if v == nil {
			if required {
				l.errorf(file, path, "%s price is required", key)
			}
			return def
		}
		l.number(file, append(slices.Clone(path), key), *v, 0, maxPerMillion)
		return *v
	}
	var p TokenPrices
	p.Input = get("input", d.Input, 0, true)
	p.Output = get("output", d.Output, 0, true)
	p.CacheRead = get("cache_read", d.CacheRead, p.Input, false)
	p.CacheWrite = get("cache_write", d.CacheWrite, p.Input, false)
	p.Reasoning = get("reasoning", d.Reasoning, p.Output, false)
	if base != nil {
		// A long tier that omits cache prices keeps the base tier's ratio to input.
		if d.CacheRead == nil && base.Input > 0 {
			p.CacheRead = base.CacheRead * p.Input / base.Input
		}
		if d.CacheWrite == nil && base.Input > 0 {
			p.CacheWrite = base.CacheWrite * p.Input / base.Input
		}
	}
	return p
}

// residencyModels checks, once models are known, that residency rules name
// models the provider actually hosts.
func (l *loader) residencyModels(c *Catalog, d providersDoc) {
	for i, pd := range d.Providers {
		for j, rd := range pd.Residency {
			for _, id := range rd.Models {
				k, ok := c.modelIndex(id)
				if !ok || !slices.Contains(c.models[k].Hosts, pd.ID) {
					l.errorf("providers.yaml", []any{"providers", i, "residency", j, "models"}, "%q is not a model %s hosts", id, pd.ID)
				}
			}
		}
	}
}

var hostingKinds = []string{"none", "saas", "self-hosted"}

func (l *loader) gateways(c *Catalog, d gatewaysDoc) {
	const file = "gateways.yaml"
	seen := map[string]bool{}
	for i, gd := range d.Gateways {
		path := []any{"gateways", i}
		if gd.ID == "" || gd.Name == "" || seen[gd.ID] {
			l.errorf(file, path, "gateway needs a unique id and a name")
		}
		seen[gd.ID] = true
		if !slices.Contains(hostingKinds, gd.Hosting) {
			l.errorf(file, append(path, "hosting"), "hosting %q is not one of %s", gd.Hosting, strings.Join(hostingKinds, ", "))
		}
		g := Gateway{ID: gd.ID, Name: gd.Name, Hosting: gd.Hosting, Note: gd.Note}
		if gd.Hosting == "saas" || gd.Compliance != nil {
			if gd.Compliance == nil {
				l.errorf(file, path, "a hosted gateway needs compliance facts (soc2, zero_data_retention)")
			} else {
				g.SOC2 = l.fact(file, path, "soc2", gd.Compliance.SOC2)
				g.ZeroDataRetention = l.fact(file, path, "zero_data_retention", gd.Compliance.ZeroDataRetention)
			}
		}
		if len(gd.Plans) == 0 {
			l.errorf(file, path, "a gateway needs at least one plan")
		}
		planIDs := map[string]bool{}
		for j, pd := range gd.Plans {
			pp := append(slices.Clone(path), "plans", j)
			if pd.ID == "" || pd.Name == "" || planIDs[pd.ID] {
				l.errorf(file, pp, "plan needs a unique id and a name")
			}
			planIDs[pd.ID] = true
			for _, n := range []struct {
				key string
				v   float64
				hi  float64
			}{
				{"base_usd_month", pd.BaseUSDMonth, 1e6}, {"per_model_usd_month", pd.PerModelUSDMonth, 1e5},
				{"included_requests", float64(pd.IncludedRequests), 1e12}, {"overage_usd_per_million", pd.OverageUSDPerMillion, 1e5},
				{"request_cap", float64(pd.RequestCap), 1e12}, {"credit_fee_pct", pd.CreditFeePct, 100},
				{"byok_fee_pct", pd.BYOKFeePct, 100}, {"byok_free_requests", float64(pd.BYOKFreeRequests), 1e12},
				{"seats", float64(pd.Seats), 1e6}, {"sso_seat_limit", float64(pd.SSOSeatLimit), 1e6},
				{"log_retention_days", float64(pd.LogRetentionDays), 36500}, {"log_store_cap", float64(pd.LogStoreCap), 1e12},
			} {
				l.number(file, append(slices.Clone(pp), n.key), n.v, 0, n.hi)
			}
			if pd.SelfHosted && gd.SelfHost == nil {
				l.errorf(file, pp, "self_hosted plan on a gateway without self_host")
			}
			for _, r := range pd.Residency {
				if r != "any" && !slices.Contains(c.Jurisdictions(), r) {
					l.errorf(file, append(slices.Clone(pp), "residency"), "unknown jurisdiction %q", r)
				}
			}
			g.Plans = append(g.Plans, Plan{
				ID: pd.ID, Name: pd.Name, BaseUSDMonth: pd.BaseUSDMonth, Estimate: pd.Estimate,
				PerModelUSDMonth: pd.PerModelUSDMonth, IncludedRequests: pd.IncludedRequests,
				OverageUSDPerMillion: pd.OverageUSDPerMillion, RequestCap: pd.RequestCap,
				CreditFeePct: pd.CreditFeePct, BYOKFeePct: pd.BYOKFeePct, BYOKFreeRequests: pd.BYOKFreeRequests,
				Seats: pd.Seats, SSOSeatLimit: pd.SSOSeatLimit, LogRetentionDays: pd.LogRetentionDays,
				LogStoreCap: pd.LogStoreCap, SSO: pd.SSO, HIPAA: pd.HIPAA, AuditLog: pd.AuditLog, NoFailover: pd.NoFailover,
				Residency: pd.Residency, SelfHosted: pd.SelfHosted,
				Provenance: l.provenance(file, pp, pd.provenanceDoc),
			})
		}
		if sd := gd.SelfHost; sd != nil {
			sp := append(slices.Clone(path), "self_host")
			q := func(key string, d quantityDoc, lo, hi float64) Quantity {
				qp := append(slices.Clone(sp), key)
				if d.Value == nil {
					l.errorf(file, qp, "value is required")
					return Quantity{}
				}
				l.number(file, qp, *d.Value, lo, hi)
				return Quantity{Value: *d.Value, Provenance: l.provenance(file, qp, d.provenanceDoc)}
			}
			g.SelfHost = &SelfHost{
				RPSPerInstance:       q("rps_per_instance", sd.RPSPerInstance, 1, 1e6),
				MinInstances:         q("min_instances", sd.MinInstances, 1, 1000),
				InstanceUSDMonth:     q("instance_usd_month", sd.InstanceUSDMonth, 0, 1e5),
				PostgresUSDMonth:     q("postgres_usd_month", sd.PostgresUSDMonth, 0, 1e5),
				RedisUSDMonth:        q("redis_usd_month", sd.RedisUSDMonth, 0, 1e5),
				LogBytesPerRequest:   q("log_bytes_per_request", sd.LogBytesPerRequest, 0, 1e7),
				StorageUSDPerGBMonth: q("storage_usd_per_gb_month", sd.StorageUSDPerGBMonth, 0, 100),
				DefaultRetentionDays: q("default_retention_days", sd.DefaultRetentionDays, 1, 36500),
				PeakToAverage:        q("peak_to_average", sd.PeakToAverage, 1, 100),
				OpsHoursMonth:        q("ops_hours_month", sd.OpsHoursMonth, 0, 744),
			}
		}
		c.gateways = append(c.gateways, g)
	}
	for _, id := range GatewayIDs() {
		if !seen[id] {
			l.errorf(file, []any{"gateways"}, "gateway %q is missing", id)
		}
	}
}
