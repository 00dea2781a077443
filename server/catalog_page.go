package server

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"gatewise/pricing"
)

// CatalogPage shows everything the pricing catalog knows, each number with
// the date it was true and where it comes from. Numbers are formatted here,
// so the template only prints strings.
type CatalogPage struct {
	Layout
	AsOf      string // the catalog's newest as_of
	Providers []CatalogProvider
	Gateways  []CatalogGateway

	// Offers are the models table's rows after the provider filter;
	// TotalOffers counts them all.
	Offers      []CatalogOffer
	TotalOffers int
	ModelCount  int
	// Filter is the provider the models table is narrowed to ("" for all);
	// Unknown holds a requested provider the catalog lacks, shown back in
	// the message (escaped by the template), with a Suggestion if one is close.
	Filter        string
	FilterName    string
	Unknown       string
	Suggestion    string
	FilterOptions []CatalogOption
}

// CatalogOption is one choice of the provider filter.
type CatalogOption struct {
	ID, Name string
	Offers   int
	Selected bool
}

// CatalogProvider is one provider with its regions, residency options and
// compliance facts.
type CatalogProvider struct {
	ID, Name   string
	Regions    []pricing.Region
	Residency  []CatalogResidency
	Compliance []CatalogFact
	Offers     int // how many model offers it hosts, for the filter link
}

// CatalogResidency is a provider's priced residency option.
type CatalogResidency struct {
	ID         string
	Regions    string
	Multiplier string
	Models     string // "all models" when the option has no model list
	pricing.Provenance
}

// CatalogFact is a yes/no-style fact under its label.
type CatalogFact struct {
	Label, Value string
	pricing.Provenance
}

// CatalogOffer is one row of the models table: a model on one host.
type CatalogOffer struct {
	Model, ModelName, Provider, ProviderModelID string
	Regions                                     []string
	Input, Output, CacheRead, CacheWrite        string
	Reasoning                                   string   // set only when it differs from Output
	Long                                        []string // the long-context tier, line by line; nil when none
	Uplifts                                     []CatalogUplift
	pricing.Provenance
}

// CatalogUplift is a regional price multiplier on one offer.
type CatalogUplift struct {
	Regions, Multiplier string
	pricing.Provenance
}

// CatalogGateway is one gateway with its plans and, when self-hosted, what
// running it takes.
type CatalogGateway struct {
	ID, Name, Hosting, Note string
	Plans                   []CatalogPlan
	SelfHost                []CatalogQuantity
	Facts                   []CatalogFact // SOC 2 and ZDR; empty when no third party holds data
}

// CatalogPlan is one way to buy a gateway, its fields already in words.
type CatalogPlan struct {
	ID, Name  string
	Base      string // "$2,000 a month (estimate)", "free"
	Usage     []string
	Fees      []string
	Limits    []string
	Retention string
	Features  []string
	Residency string
	pricing.Provenance
}

// CatalogQuantity is one self-host sizing figure.
type CatalogQuantity struct {
	Label, Value string
	pricing.Provenance
}

// showCatalog lists providers, model prices and gateway plans with their
// provenance. ?provider= narrows the models table; an unknown provider is
// said so on the page rather than failing the request.
func (s *Server) showCatalog(c *gin.Context) {
	cat := s.catalog
	page := CatalogPage{Layout: Layout{Title: "Catalog", Nav: "catalog", Version: s.cfg.Version}, AsOf: cat.AsOf()}

	hosted := map[string]int{}
	models := cat.Models()
	page.ModelCount = len(models)
	for _, m := range models {
		for _, o := range m.Offers {
			hosted[o.Provider]++
		}
	}

	providers := cat.Providers()
	ids := make([]string, len(providers))
	for i, p := range providers {
		ids[i] = p.ID
	}
	want := strings.ToLower(strings.TrimSpace(c.Query("provider")))
	if want != "" {
		if p, ok := cat.Provider(want); ok {
			page.Filter, page.FilterName = p.ID, p.Name
		} else {
			page.Unknown = truncate(strings.TrimSpace(c.Query("provider")), 80)
			page.Suggestion = cat.Suggest(ids, want)
		}
	}

	for _, p := range providers {
		page.Providers = append(page.Providers, catalogProvider(p, hosted[p.ID]))
		page.FilterOptions = append(page.FilterOptions, CatalogOption{ID: p.ID, Name: p.Name, Offers: hosted[p.ID], Selected: p.ID == page.Filter})
	}
	for _, m := range models {
		for _, o := range m.Offers {
			page.TotalOffers++
			if page.Filter == "" || o.Provider == page.Filter {
				page.Offers = append(page.Offers, catalogOffer(m, o))
			}
		}
	}
	for _, g := range cat.Gateways() {
		page.Gateways = append(page.Gateways, catalogGateway(g))
	}
	s.render(c, http.StatusOK, "catalog", page)
}

func catalogProvider(p pricing.Provider, offers int) CatalogProvider {
	out := CatalogProvider{ID: p.ID, Name: p.Name, Regions: p.Regions, Offers: offers}
	for _, r := range p.Residency {
		models := "all models"
		if len(r.Models) > 0 {
			models = strings.Join(r.Models, ", ")
		}
		out.Residency = append(out.Residency, CatalogResidency{
			ID: r.ID, Regions: strings.Join(r.Regions, ", "), Multiplier: multiplier(r.Multiplier), Models: models, Provenance: r.Provenance,
		})
	}
	for _, f := range []struct {
		label string
		fact  pricing.Fact
	}{{"SOC 2", p.Compliance.SOC2}, {"HIPAA BAA", p.Compliance.HIPAABAA}, {"Zero data retention", p.Compliance.ZeroDataRetention}} {
		out.Compliance = append(out.Compliance, catalogFact(f.label, f.fact))
	}
	return out
}

func catalogFact(label string, f pricing.Fact) CatalogFact {
	v := f.Value
	if v == "" {
		v = "unknown"
	}
	return CatalogFact{Label: label, Value: v, Provenance: f.Provenance}
}

func catalogOffer(m pricing.Model, o pricing.Offer) CatalogOffer {
	row := CatalogOffer{
		Model: m.ID, ModelName: m.Name, Provider: o.Provider, ProviderModelID: o.ModelID,
		Regions: o.Regions,
		Input:   usd(o.Prices.Input), Output: usd(o.Prices.Output),
		CacheRead: usd(o.Prices.CacheRead), CacheWrite: usd(o.Prices.CacheWrite),
		Provenance: o.Provenance,
	}
	if o.Prices.Reasoning != o.Prices.Output {
		row.Reasoning = usd(o.Prices.Reasoning)
	}
	if o.LongContextAbove > 0 {
		l := o.Long
		row.Long = []string{"above " + plainNumber(float64(o.LongContextAbove)) + " prompt tokens",
			"input " + usd(l.Input), "output " + usd(l.Output), "cache read " + usd(l.CacheRead), "cache write " + usd(l.CacheWrite)}
	}
	for _, u := range o.Uplifts {
		row.Uplifts = append(row.Uplifts, CatalogUplift{Regions: strings.Join(u.Regions, ", "), Multiplier: multiplier(u.Multiplier), Provenance: u.Provenance})
	}
	return row
}

func catalogGateway(g pricing.Gateway) CatalogGateway {
	out := CatalogGateway{ID: g.ID, Name: g.Name, Hosting: hostingLabel(g.Hosting), Note: g.Note}
	if g.SOC2.Value != "" || g.ZeroDataRetention.Value != "" {
		out.Facts = []CatalogFact{catalogFact("SOC 2", g.SOC2), catalogFact("Zero data retention", g.ZeroDataRetention)}
	}
	for _, p := range g.Plans {
		out.Plans = append(out.Plans, catalogPlan(p))
	}
	if h := g.SelfHost; h != nil {
		for _, q := range []struct {
			label, unit string
			q           pricing.Quantity
		}{
			{"Requests per second per instance", "", h.RPSPerInstance},
			{"Minimum instances", "", h.MinInstances},
			{"Instance", "$ a month", h.InstanceUSDMonth},
			{"Postgres", "$ a month", h.PostgresUSDMonth},
			{"Redis", "$ a month", h.RedisUSDMonth},
			{"Log size per request", "bytes", h.LogBytesPerRequest},
			{"Log storage", "$ per GB-month", h.StorageUSDPerGBMonth},
			{"Default log retention", "days", h.DefaultRetentionDays},
			{"Peak to average traffic", "×", h.PeakToAverage},
			{"Operations", "hours a month", h.OpsHoursMonth},
		} {
			out.SelfHost = append(out.SelfHost, CatalogQuantity{Label: q.label, Value: withUnit(q.q.Value, q.unit), Provenance: q.q.Provenance})
		}
	}
	return out
}

func catalogPlan(p pricing.Plan) CatalogPlan {
	out := CatalogPlan{ID: p.ID, Name: p.Name, Provenance: p.Provenance}
	switch {
	case p.BaseUSDMonth == 0:
		out.Base = "no monthly fee"
	case p.Estimate:
		out.Base = usd(p.BaseUSDMonth) + " a month (our estimate: no public price)"
	default:
		out.Base = usd(p.BaseUSDMonth) + " a month"
	}
	if p.PerModelUSDMonth > 0 {
		out.Usage = append(out.Usage, usd(p.PerModelUSDMonth)+" per model a month")
	}
	if p.IncludedRequests > 0 {
		out.Usage = append(out.Usage, plainNumber(float64(p.IncludedRequests))+" requests included")
	}
	if p.OverageUSDPerMillion > 0 {
		out.Usage = append(out.Usage, usd(p.OverageUSDPerMillion)+" per million beyond")
	}
	if p.CreditFeePct > 0 {
		out.Fees = append(out.Fees, plainNumber(p.CreditFeePct)+" % on credits")
	}
	if p.BYOKFeePct > 0 {
		f := plainNumber(p.BYOKFeePct) + " % with own keys"
		if p.BYOKFreeRequests > 0 {
			f += " beyond " + plainNumber(float64(p.BYOKFreeRequests)) + " requests"
		}
		out.Fees = append(out.Fees, f)
	}
	if p.RequestCap > 0 {
		out.Limits = append(out.Limits, "logs at most "+plainNumber(float64(p.RequestCap))+" requests a month")
	}
	if p.LogStoreCap > 0 {
		out.Limits = append(out.Limits, "keeps at most "+plainNumber(float64(p.LogStoreCap))+" logs")
	}
	if p.Seats > 0 {
		seats := plainNumber(float64(p.Seats)) + " seats"
		if p.Seats == 1 {
			seats = "1 seat"
		}
		out.Limits = append(out.Limits, seats)
	}
	if p.SSOSeatLimit > 0 {
		out.Limits = append(out.Limits, "SSO up to "+plainNumber(float64(p.SSOSeatLimit))+" users")
	}
	switch {
	case p.LogRetentionDays == 0:
		out.Retention = "no request logs"
	case p.LogRetentionDays >= 36500:
		out.Retention = "indefinitely"
	default:
		out.Retention = plainNumber(float64(p.LogRetentionDays)) + " days"
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{p.SSO, "SSO"}, {p.HIPAA, "HIPAA"}, {p.AuditLog, "audit log"}, {p.SelfHosted, "self-hosted"}} {
		if f.on {
			out.Features = append(out.Features, f.name)
		}
	}
	switch {
	case len(p.Residency) == 0:
		out.Residency = "none"
	case len(p.Residency) == 1 && p.Residency[0] == "any":
		out.Residency = "any (you choose where it runs)"
	default:
		out.Residency = strings.Join(p.Residency, ", ")
	}
	return out
}

func hostingLabel(h string) string {
	switch h {
	case "none":
		return "nothing in the path"
	case "saas":
		return "hosted service (SaaS)"
	case "self-hosted":
		return "self-hosted"
	}
	return h
}

// usd writes a dollar amount with every significant decimal ($0.025, $2,000).
func usd(v float64) string { return "$" + plainNumber(v) }

func multiplier(v float64) string { return "×" + plainNumber(v) }

func withUnit(v float64, unit string) string {
	switch unit {
	case "":
		return plainNumber(v)
	case "×":
		return "×" + plainNumber(v)
	}
	if strings.HasPrefix(unit, "$") {
		return usd(v) + strings.TrimPrefix(unit, "$")
	}
	return plainNumber(v) + " " + unit
}

// plainNumber writes v in its shortest exact decimal form with thousands
// separators: 124.1 stays "124.1", where subtracting the whole part first
// would show the binary approximation of .1.
func plainNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
