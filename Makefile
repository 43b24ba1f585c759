# The README's two commands (demo, test), plus serve, lint and the benchmarks.
.PHONY: demo run test test-postgres lint bench

demo:
	go run ./cmd/baixa demo

run:
	go run ./cmd/baixa serve

test:
	go test ./...

# The PostgreSQL half of the suite needs a server; this uses the local one.
test-postgres:
	BAIXA_TEST_POSTGRES_URL=$${BAIXA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable} go test -race ./...

lint:
	golangci-lint run ./...

bench:
	go run ./bench/settle -n 100000
	go run ./bench/webhooks -n 20000 -rate 200 -seconds 20
