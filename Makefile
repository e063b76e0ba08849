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
# codegen: regenerate Wolverine's handlers (Internal/Generated) after changing an endpoint, then rebuild and commit them.
.PHONY: codegen help prereqs docker build run test demo bench bench-abuse verify compose-smoke db-start db-stop db-status clean clean-data

help:
	@echo "make run         start the local PostgreSQL (.data/pg) and the API on http://localhost:$(PORT)"
	@echo "make test        set up PostgreSQL, Docker and the test image if missing, build, run every test;"
	@echo "                 ends with 'N passed, N failed, N skipped'"
	@echo "make docker      install and start Docker if needed, and make the PostgreSQL image (postgres:15 or local)"
	@echo "make compose-smoke  bring up deploy/docker-compose.yml (PostgreSQL + 2 API instances), check, tear down"
	@echo "make demo        run the demo client against http://localhost:$(PORT)"
	@echo "make bench       run the benchmarks (QUICK=1 for a short run; REBUILD_1M=1 adds the rebuild at 1M; ARGS=... more options)"
	@echo "make bench-abuse a careless client's loads beside an ordinary one (issue 21; = make bench ABUSE=1, QUICK=1 works)"
	@echo "make verify      ask the running service to check its figures against the events"
	@echo "make build       dotnet build $(SOLUTION) -c $(CONFIGURATION)"
	@echo "make codegen     regenerate Wolverine's handlers (after changing an endpoint); rebuild and commit them"
	@echo "make db-stop     stop the local PostgreSQL (db-start, db-status too)"
	@echo "make clean       remove bin/ and obj/ (make clean-data also removes .data/)"

prereqs:
	@deploy/install-prereqs.sh

docker:
	@deploy/install-docker.sh
	@deploy/postgres-image/build.sh >/dev/null

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

# run-tests.sh does the set-up (Docker, the test image, Chromium if its script exists),
# builds while the image is made, runs every test project and removes the test containers, even on failure.
codegen: build
	@deploy/codegen.sh

test:
	@deploy/run-tests.sh --build

demo:
	dotnet run --project $(DEMO_PROJECT) -c $(CONFIGURATION) -- --url http://localhost:$(PORT)

# make bench ABUSE=1 (or make bench-abuse) is `--abuse`: make itself would take `make bench --abuse` as its own option.
bench:
	dotnet run -c Release --project $(BENCH_PROJECT) -- $(if $(QUICK),--quick) $(if $(REBUILD_1M),--rebuild-1m) $(if $(ABUSE),--abuse) $(ARGS)

bench-abuse:
	@$(MAKE) --no-print-directory bench ABUSE=1

verify:
	@PORT=$(PORT) deploy/verify.sh

# By hand, not part of `make test`: builds the images, starts PostgreSQL and two API instances (5080, 5081).
compose-smoke:
	@deploy/compose-smoke.sh

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
