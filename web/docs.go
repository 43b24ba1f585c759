package web

import _ "embed"

// docsPage renders /openapi.json in the browser with no external assets, so
// it works offline.
//
//go:embed docs.html
var docsPage []byte
