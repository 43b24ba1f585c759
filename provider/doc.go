// Package provider holds what every provider's package shares: the
// Connector of callback-only providers (Callbacks), connections prepared
// and checked by their connector (Connections), a provider's address and
// credentials rules (Address), and the helpers connectors use to talk to
// a provider (HTTP, polling with backoff, strict settings, tolerant JSON
// text). Each provider lives in a package below it and imports only this
// one, cnab and brazil of baixa's: never a sibling. Running the fetches is
// package fetch's; reading Brazilian amounts and dates, package brazil's.
package provider
