#!/usr/bin/env bash
# Dashboard benchmark at scale SCALE (default 1): generates the data set into its own
# PostgreSQL database once (kept for later runs; BENCH_FRESH=1 makes it again), then runs the
# service's release build and the pgbench floor side by side (bench/dashboard.rs).
# Run by hand, not by CI: it takes a few minutes and wants the machine to itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1}
server=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
database=customer_portal_bench_s$scale
export BENCH_DATABASE_URL="$server/$database"

command -v pgbench > /dev/null || { apt-get install -y postgresql-client > /dev/null; }
cargo build --release --quiet

exists=$(psql "$server/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$database'")
if [[ "${BENCH_FRESH:-0}" == 1 || "$exists" != 1 ]]; then
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
  DATABASE_URL="$BENCH_DATABASE_URL" RUST_LOG=warn /usr/bin/time -f "generate: %e s, peak %M KiB" \
    ./target/release/customer-portal generate --scale "$scale"
fi
psql "$BENCH_DATABASE_URL" -Atc "SELECT 'database: ' || pg_size_pretty(pg_database_size(current_database())) || ', ' || (SELECT count(*) FROM orders) || ' orders, ' || (SELECT count(*) FROM order_lines) || ' lines, ' || (SELECT count(*) FROM serial_numbers) || ' serial numbers'"
cargo bench --quiet --bench dashboard
