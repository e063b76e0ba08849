# CoordinationEvents dev loop. `make help` lists the targets.
PORT ?= 5080
CONFIGURATION ?= Debug
SOLUTION := CoordinationEvents.sln
API_PROJECT := services/CoordinationEvents.Api
DEMO_PROJECT := deploy/demo/CoordinationEvents.Demo
BENCH_PROJECT := tests/CoordinationEvents.Benchmarks

export DOTNET_CLI_TELEMETRY_OPTOUT ?= 1
export DOTNET_NOLOGO ?= 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE ?= 1
export CONFIGURATION

.DEFAULT_GOAL := help
.PHONY: help prereqs build run test demo bench verify db-start db-stop db-status clean clean-data

help:
	@echo "make run         start the local PostgreSQL (.data/pg) and the API on http://localhost:$(PORT)"
	@echo "make test        install PostgreSQL if missing, build, run every test; ends with 'N passed, N failed'"
	@echo "make demo        run the demo client against http://localhost:$(PORT)"
	@echo "make bench       run the benchmarks (QUICK=1 for a short run)"
	@echo "make verify      ask the running service to check its figures against the events"
	@echo "make build       dotnet build $(SOLUTION) -c $(CONFIGURATION)"
	@echo "make db-stop     stop the local PostgreSQL (db-start, db-status too)"
	@echo "make clean       remove bin/ and obj/ (make clean-data also removes .data/)"

prereqs:
	@deploy/install-prereqs.sh

build:
	dotnet build $(SOLUTION) -c $(CONFIGURATION) -nologo

# ConnectionStrings__Events from the environment wins; otherwise the local cluster in .data/ is started.
run:
	@set -e; \
	if [ -z "$${ConnectionStrings__Events:-}" ]; then \
	  deploy/install-prereqs.sh; \
	  ConnectionStrings__Events="$$(deploy/postgres-local.sh start)"; \
	  export ConnectionStrings__Events; \
	fi; \
	echo ""; \
	echo "  Swagger UI:    http://localhost:$(PORT)/swagger"; \
	echo "  Database:      $$ConnectionStrings__Events"; \
	echo "  API keys (Development, header X-Api-Key):"; \
	echo "    dev-reporter-key   reporter: records and corrects activities for every unit"; \
	echo "    dev-analyst-key    analyst: activities, statistics, reports, feed"; \
	echo "    dev-admin-key      admin: everything, units and projections too"; \
	echo ""; \
	ASPNETCORE_ENVIRONMENT=Development; ASPNETCORE_URLS="http://localhost:$(PORT)"; \
	export ASPNETCORE_ENVIRONMENT ASPNETCORE_URLS; \
	exec dotnet run --project $(API_PROJECT) -c $(CONFIGURATION) --no-launch-profile

test: prereqs build
	@deploy/install-chromium.sh
	@deploy/run-tests.sh

demo:
	dotnet run --project $(DEMO_PROJECT) -c $(CONFIGURATION) -- --url http://localhost:$(PORT)

bench:
	dotnet run -c Release --project $(BENCH_PROJECT) -- $(if $(QUICK),--quick)

verify:
	@PORT=$(PORT) deploy/verify.sh

db-start: prereqs
	@deploy/postgres-local.sh start

db-stop:
	@deploy/postgres-local.sh stop

db-status:
	@deploy/postgres-local.sh status || true

clean:
	find services contracts tests deploy -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
	rm -rf TestResults BenchmarkDotNet.Artifacts

clean-data: db-stop
	rm -rf .data
