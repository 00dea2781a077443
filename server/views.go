package server

import (
	"regexp"
	"time"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/simulator"
)

// Layout is what every page needs; each page's view model embeds it, so the
// compiler checks what templates receive.
type Layout struct {
	Title   string
	Version string
	Nav     string // which top-level section is current
	// Scripts are static files the page loads; only pages whose extras
	// need JavaScript (the run page's copy buttons) name any.
	Scripts []string
	// RefreshWithoutScript, when set, reloads the page every so many
	// seconds in browsers without JavaScript (live progress for them).
	RefreshWithoutScript int
	// User is who is signed in, set by render; empty when sign-in is off.
	User string
}

// ArchitectureItem is one line of a list of saved architectures.
type ArchitectureItem struct {
	ID        string
	Name      string
	Providers int
	Routes    int
	Requests  float64
	UpdatedAt time.Time
}

// ArchitectureListPage lists saved architectures, newest first, and offers
// the import form.
type ArchitectureListPage struct {
	Layout
	Items       []ArchitectureItem
	Total       int64
	Page        int
	HasPrev     bool
	HasNext     bool
	ImportError string
	Problems    []string
	ImportName  string
}

// ArchitectureFormPage renders the architecture form for a new or saved
// architecture, with every problem next to its field.
type ArchitectureFormPage struct {
	Layout
	Action   string // where the form posts
	EditID   string // set when editing a saved architecture
	Form     ArchitectureForm
	Errors   FieldErrors
	Problems []simulator.Problem
	Examples []string

	Catalog       *pricing.Catalog
	Jurisdictions []string
	Gateways      []string
	Needs         []string
	ScenarioNames []string
}

// ArchitectureShowPage shows one saved architecture.
type ArchitectureShowPage struct {
	Layout
	ID        string
	Spec      simulator.Spec
	CreatedAt time.Time
	UpdatedAt time.Time
	Origins   []OriginRow
	Overrides string // outage_model and gateway_settings as YAML, if any
	Uploads   []UploadItem
	// PriceFiles are the kept price files a run can be priced with.
	PriceFiles []store.PriceFile
	Formats    []string
	// RunScenarios and RunGateways are the run form's choices, ticked as
	// the architecture file has them.
	RunScenarios, RunGateways []Choice
	// Base is where the page's links start; ReadOnly hides everything that
	// changes the architecture (a share link's view).
	Base     string
	ReadOnly bool
	Shares   []ShareView
}

// Choice is one checkbox of a form.
type Choice struct {
	Value   string
	Checked bool
	Hint    string // what the value alone does not say, such as a scenario's parameters
}

// UploadItem is one uploaded log on an architecture's page.
type UploadItem struct {
	ID, Name  string
	Requests  int64
	CreatedAt time.Time
	Waiting   bool // for its column mapping
	RawKept   bool
}

// OriginRow is one line of the origin table on the architecture page.
type OriginRow struct {
	Origin   string
	Share    float64
	ServedIn string
}

// ArchitectureDeletePage asks before deleting.
type ArchitectureDeletePage struct {
	Layout
	ID   string
	Name string
}

// ErrorPage is shown for any failed request.
type ErrorPage struct {
	Layout
	Status  int
	Message string
}

// FieldErrors holds validation messages by form field name. Field names are
// architecture-file paths, with list elements folded into their list
// (routes[0].models[2] is shown at routes[0].models).
type FieldErrors map[string][]string

var listElement = regexp.MustCompile(`^(.*\.(?:regions|models)|gateways|observability_needs)\[\d+\]$`)

// Has reports whether a field has messages, for styling the input.
func (fe FieldErrors) Has(field string) bool { return len(fe[field]) > 0 }
