package simulator

import "math"

// The calibrated defaults below come from the incident research gatewise
// ships with (shared/research/outages.md §11, compiled 2026-11-25); each
// model's Source names the rows it rests on. ESTIMATE marks a judgement
// where no archive exists.

// Severity classes by status-page impact (outages.md §11.3): shares from the
// 2024 API-flagged incidents; peak error rates and latency factors are
// estimates anchored on named incidents; status weights are Statuspage's
// (partial outage 0.3, major 1, degraded 0).
func severityClasses(degraded, minor, major, critical float64) []SeverityClass {
	return []SeverityClass{
		{Name: "degraded", Share: degraded, PeakErrorRate: 0.03, StatusWeight: 0, LatencyMultiplier: 3},
		{Name: "minor", Share: minor, PeakErrorRate: 0.10, StatusWeight: 0, LatencyMultiplier: 1},
		{Name: "major", Share: major, PeakErrorRate: 0.30, StatusWeight: 0.3, LatencyMultiplier: 1},
		{Name: "critical", Share: critical, PeakErrorRate: 0.95, StatusWeight: 1, LatencyMultiplier: 1},
	}
}

// outageClasses is for sources that are either half down or down: gateways
// and cloud platforms (outages.md §11.6 gives 0.3–1.0 during their incidents).
func outageClasses(partialShare, partialRate, fullRate float64) []SeverityClass {
	return []SeverityClass{
		{Name: "partial", Share: partialShare, PeakErrorRate: partialRate, StatusWeight: 0.3, LatencyMultiplier: 1},
		{Name: "major", Share: 1 - partialShare, PeakErrorRate: fullRate, StatusWeight: 1, LatencyMultiplier: 1},
	}
}

// Shared shape parameters (outages.md §11.1–§11.5).
const (
	weibullShape      = 0.7    // §11.1: Weibull fit k = 0.63–0.78
	maxIncidentHours  = 72     // §11.2: truncate at 72 h
	peakFraction      = 0.25   // §11.3: p = 0.25 reproduces status-page minutes
	tailErrorRate     = 0.02   // §11.3: f_tail = 0.02
	backgroundErrRate = 0.0015 // §11.5: 0.15 % 5xx outside incidents
)

// DefaultProviderIncidents is the incident model of each provider the catalog
// knows. For regional providers the rate is per region.
func DefaultProviderIncidents() map[string]IncidentModel {
	provider := func(perMonth, mu, sigma float64, classes []SeverityClass, modelScoped, regional float64, source string) IncidentModel {
		return IncidentModel{
			PerMonth: perMonth, Arrival: Weibull, WeibullShape: weibullShape,
			DurationMu: mu, DurationSigma: sigma, MaxHours: maxIncidentHours,
			Classes: classes, PeakFraction: peakFraction, TailErrorRate: tailErrorRate,
			ModelScopedShare: modelScoped, RegionalShare: regional, BackgroundErrorRate: backgroundErrRate,
			Source: source,
		}
	}
	pooled := severityClasses(0.165, 0.405, 0.365, 0.065) // mean of the OpenAI and Anthropic shares (ESTIMATE)
	return map[string]IncidentModel{
		"openai": provider(8, 0.42, 1.38, severityClasses(0.18, 0.42, 0.29, 0.11), 0.8, 0,
			"the FAILS dataset (arXiv 2503.12185; github.com/atlarge-research/FAILS, status-page incidents to 2025-01-10), fitted by gatewise: 2024 API-flagged incidents 8.3/month, durations lognormal μ 0.42 σ 1.38 (n=94), severity classes from their 2024 impact levels, model-scoped 0.8 from incident titles"),
		"anthropic": provider(11, 0.27, 1.43, severityClasses(0.15, 0.39, 0.44, 0.02), 0.55, 0,
			"the FAILS dataset (arXiv 2503.12185; github.com/atlarge-research/FAILS, status-page incidents to 2025-01-10), fitted by gatewise: 2024 API-flagged incidents 10.6/month, durations lognormal μ 0.27 σ 1.43 (n=124), severity classes from their 2024 impact levels, model-scoped 0.55 from incident titles (FAILS 2024 and github.com/b3ngriffiths/ai-status-leaderboard, 2026-07-01 snapshot)"),
		"google-gemini": provider(4, 0.2, 1.3, pooled, 0.6, 0,
			"Gemini 4/month (ESTIMATE by gatewise, 2026-11-25: no Gemini incident archive found), pooled LLM durations (μ 0.2 σ 1.3) from Chu et al., ICPE 2025 (arXiv 2501.12469; data github.com/atlarge-research/llm-service-analysis, 2021-02 to 2024-08)"),
		"google-vertex": provider(4, 0.9, 1.6, pooled, 0.6, 0.5,
			"Gemini/Vertex 4/month (ESTIMATE by gatewise, 2026-11-25: no Gemini incident archive found), cloud regional durations (μ 0.9 σ 1.6) fitted by gatewise to the AWS Health Dashboard archive (2021-06 to 2022-06) and Google Cloud incidents.json (2021-07 to 2022-07), github.com/moritalous/cloud-status-history, single location 0.5 (the Google Cloud incidents that list locations, same archive)"),
		"aws-bedrock": provider(1.5, 0.9, 1.6, pooled, 0.6, 0.84,
			"Bedrock 1.5/month per region (ESTIMATE by gatewise from the AWS Health Dashboard archive's 5.2 public events a month across all services and regions), cloud regional durations (μ 0.9 σ 1.6) fitted by gatewise to the AWS Health Dashboard archive (2021-06 to 2022-06) and Google Cloud incidents.json (2021-07 to 2022-07), github.com/moritalous/cloud-status-history, single region 0.84 (AWS archive)"),
		"azure-openai": provider(2, 0.9, 1.6, pooled, 0.6, 0.5,
			"Azure OpenAI 2/month per region (ESTIMATE by gatewise from the post-incident reviews of 2024-07-13, 2025-05-16 and 2026-03-09 at azure.status.microsoft), cloud regional durations (μ 0.9 σ 1.6) fitted by gatewise to the AWS Health Dashboard archive (2021-06 to 2022-06) and Google Cloud incidents.json (2021-07 to 2022-07), github.com/moritalous/cloud-status-history, single region 0.5 (ESTIMATE)"),
		"mistral": provider(4, 0.2, 1.3, pooled, 0.6, 0,
			"Mistral 4/month (ESTIMATE by gatewise, 2026-11-25: no usable incident archive), pooled LLM durations from Chu et al., ICPE 2025 (arXiv 2501.12469; data github.com/atlarge-research/llm-service-analysis, 2021-02 to 2024-08)"),
	}
}

// DefaultGatewayIncidents is the incident model of each gateway's own
// platform (outages.md §11.6). Self-hosted gateways fail through their own
// deploys and configuration; the engine scales those by replicas.
func DefaultGatewayIncidents() map[string]IncidentModel {
	gateway := func(perMonth, medianHours, sigma float64, classes []SeverityClass, source string) IncidentModel {
		return IncidentModel{
			PerMonth: perMonth, Arrival: Weibull, WeibullShape: weibullShape,
			DurationMu: math.Log(medianHours), DurationSigma: sigma, MaxHours: maxIncidentHours,
			Classes: classes, PeakFraction: 1, TailErrorRate: 0,
			Source: source,
		}
	}
	return map[string]IncidentModel{
		"openrouter": gateway(0.25, 0.6, 0.7, outageClasses(0.3, 0.2, 0.9),
			"OpenRouter's status page as captured 2025-09-07 to 2026-07-23 (bentleypark/aiwatch fixtures, read 2026-12-01) plus the 2025-08-28 outage (reviews at iprice.co.id, ofox.ai, tokenmix.ai): three chat-API outages in ~11 months (2025-08-28, 2026-02-17, 2026-02-19), 35–82 min, median 0.6 h; error share ramped 0.2→0.9, answered as 401 (its postmortem). Its five other incidents (generation lookup, logs and budgets, login) leave completions alone and are not modelled"),
		"portkey": gateway(0.5, 1.0, 1.2, outageClasses(0.7, 0, 0.2),
			"pingoru.io/providers/portkey (third-party tracker, 2024-05 to 2026-05): 12 posted incidents in 24 months, 32 h 20 min (0.5 a month); of the 3 readable (2026-01-22 dashboard, a sign-in outage, 2026-05-08 budget enforcement), none took routing down, so 30 % touch the request path at a 0.2 share (ESTIMATE); median 1 h, σ 1.2 for the long tail behind the 2.7 h mean"),
		"helicone": gateway(0.1, 0.5, 1.0, outageClasses(0.5, 0.3, 1.0),
			"ESTIMATE 0.1 a month, median 0.5 h: no proxy incident found in its status history or issues (read 2026-12-01); its measured 2026 incidents (AWS account lock 2026-05-14–18, API monitors 2026-08-14–16) hit logging and the API, not the proxy, which runs on Cloudflare Workers (the common-mode layer holds Cloudflare's events)"),
		"cloudflare": gateway(0.1, 1.0, 1.0, outageClasses(0.5, 0.3, 1.0),
			"AI Gateway's own failures beyond the Cloudflare platform events, which the common-mode layer holds once for every Cloudflare-hosted option: 0.1 a month, median 1 h (ESTIMATE: none found gateway-wide; cloudflare/ai #611 2026-07-12 recreated routes answering 2005, #616 2026-07-06 one model failing for a week: one-route and one-model failures are not modelled)"),
		"litellm": gateway(0.5, 1.0, 1.2, outageClasses(0, 0, 1.0),
			"ESTIMATE 0.5 a month of the team's own deploy, upgrade and config incidents, median 1 h (a rollback), σ 1.2, every request on the replicas hit: BerriAI/litellm ships a stable release weekly, and at least 11 upgrades broke auth or start-up for their users in 2024-03 to 2026-08 (#2539, #5111, #5164, #5677, #7287, #9885, #16871, #23976, #36922, …; read 2026-12-01). Pods OOM-killed every 1–3 days (#21908, #27954) lose only in-flight requests and are not modelled"),
		"kong": gateway(0.25, 1.0, 1.2, outageClasses(0, 0, 1.0),
			"ESTIMATE 0.25 a month of the team's own deploy and config incidents, median 1 h, σ 1.2: Kong releases far less often than LiteLLM and its public data-plane regressions are rarer (Kong/kong #8517 stale config, #13553 memory growth; read 2026-12-01)"),
	}
}

// CommonPlatform is one cloud or CDN platform of the common-mode layer:
// its events hit every provider API and gateway that runs on it, once.
type CommonPlatform struct {
	Name  string
	Model IncidentModel
	// Providers are the provider APIs the platform carries; an AWS event
	// is a us-east-1 event (outages.md §11.4: 38 % of AWS entries, and the
	// 2025-10-20 event), so it hits Bedrock there only.
	Providers []string
}

// commonEventsPerYear is the default rate of the whole layer: about five
// events a year (outages.md §11.4; 2025 had GCP Jun 12, Cloudflare Jun 12,
// AWS Oct 20, Azure Oct 29, Cloudflare Nov 18 and Dec 5).
const commonEventsPerYear = 5.0

// DefaultCommonMode is the hyperscaler and CDN layer, by platform: 2025's
// six events split three to Cloudflare and one to each hyperscaler, scaled
// to five a year, each platform with the durations of its own events
// (outages.md §11.4 rows 8–13): Cloudflare's core events ran 0.4–3.2 h
// (Dec 5, Jun 12, Nov 18's core), the hyperscalers' 7.5–14.5 h.
func DefaultCommonMode() []CommonPlatform {
	event := func(perYear, medianHours, sigma float64, source string) IncidentModel {
		return IncidentModel{
			PerMonth: perYear / 12, Arrival: Poisson,
			DurationMu: math.Log(medianHours), DurationSigma: sigma, MaxHours: maxIncidentHours,
			Classes: outageClasses(0.4, 0.3, 0.9), PeakFraction: 1,
			Source: source,
		}
	}
	share := commonEventsPerYear / 6
	return []CommonPlatform{
		{Name: "cloudflare", Model: event(3*share, 1.5, 0.9, "Cloudflare's post-mortems of 3 of 2025's 6 cloud and CDN platform events (Jun 12 2 h 28 min, Nov 18 core 3 h 10 min, Dec 5 25 min; copies at failure-modes.dev fm-025, ilert.com/postmortems/cloudflare-global-outage-nov-2025, crispng.com): median 1.5 h, σ 0.9; OpenAI's API hosts terminate TLS on Cloudflare (developers.openai.com/api/docs/guides/data-residency, 2026), and its 2023-11-08 errors were cf_bad_gateway"), Providers: []string{"openai"}},
		{Name: "gcp", Model: event(share, 9, 0.5, "Google Cloud's incident report of 2025-06-12 (drdroid.io mirror; postmortems.app); hyperscaler events 7.5–14.5 h, median 9 h, σ 0.5 (ESTIMATE from three events)"), Providers: []string{"google-vertex", "google-gemini"}},
		{Name: "aws", Model: event(share, 9, 0.5, "AWS's post-event summary of us-east-1 2025-10-20 (ernestchiang.com copy; failure-modes.dev fm-020); hyperscaler events 7.5–14.5 h, median 9 h, σ 0.5 (ESTIMATE from three events)"), Providers: []string{"aws-bedrock"}},
		{Name: "azure", Model: event(share, 9, 0.5, "Azure Front Door's preliminary post-incident review of 2025-10-29 (status.xink.io/incidents/x1m2y60mh49k); hyperscaler events 7.5–14.5 h, median 9 h, σ 0.5 (ESTIMATE from three events)"), Providers: []string{"azure-openai"}},
	}
}
