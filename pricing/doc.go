// Package pricing is gatewise's price and gateway catalog. For now it knows
// which providers, regions and models exist, so an architecture file can be
// checked against reality; a later piece of work adds prices, plans and their
// sources.
//
// The package is pure and imports nothing else from gatewise, so every other
// package can depend on it.
package pricing
