package store

// The services, one per noun, each over the database they were opened on.
// A consumer whose interface spans nouns (the deliverer wants endpoints
// and deliveries) is given the services it needs, composed where baixa is
// wired (cmd/baixa).
type (
	// Accounts stores accounts (account.go).
	Accounts struct{ db *DB }
	// APIKeys stores API keys and the audit log of what they did (apikey.go).
	APIKeys struct{ db *DB }
	// Charges stores charges and their reference index (charge.go).
	Charges struct{ db *DB }
	// Connections stores provider connections, their secrets sealed
	// (connection.go).
	Connections struct{ db *DB }
	// Fetches stores the runs of pull connections and what they fetched
	// (fetch.go).
	Fetches struct{ db *DB }
	// Documents stores providers' input verbatim and queues its settling
	// (document.go; small ones with group commit, group.go).
	Documents struct{ db *DB }
	// Movements gives settling its transactions, and lists the movements
	// that need attention (movement.go).
	Movements struct{ db *DB }
	// Attention is the queue of movements that need a person, and the
	// decisions taken on them (attention.go).
	Attention struct{ db *DB }
	// Events is the outbound feed (event.go).
	Events struct{ db *DB }
	// Endpoints stores the ERP's webhook subscribers (endpoint.go).
	Endpoints struct{ db *DB }
	// Deliveries stores each event's deliveries to endpoints and their
	// attempts, and hands the due ones out (delivery.go).
	Deliveries struct{ db *DB }
)

// Views for the consumers whose interface spans nouns, made of the
// services above.
type (
	// Settling is what settling needs (baixa.SettleStore): its
	// transactions, the documents it decodes and the charges it reads.
	Settling struct {
		*Movements
		*Documents
		*Charges
	}
	// Fetching is what the fetch runner needs: connections, their fetches,
	// and the documents fetches store.
	Fetching struct {
		*Connections
		*Fetches
		*Documents
	}
	// Delivering is what the webhook deliverer and the endpoints API need:
	// endpoints and their deliveries.
	Delivering struct {
		*Endpoints
		*Deliveries
	}
)
