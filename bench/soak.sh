#!/usr/bin/env bash
# Soak test: MINUTES (default 10) of mixed load on PostgreSQL against the scale-1 benchmark
# database (made by bench/dashboard.sh, or here if it is missing): dashboards polling and
# searching, a back-office writer moving ETAs, one subscription per company. Prints errors,
# p99, events received, resident memory and open files every minute (bench/soak.rs).
# Run by hand, never by CI: it wants the machine to itself.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
server=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
database=customer_portal_bench_s1
export BENCH_DATABASE_URL="$server/$database"
export SOAK_MINUTES=$minutes
export SOAK_STAFF_EMAIL=soak@distributor.example
export SOAK_STAFF_PASSWORD="a soak test staff password"

cargo build --release --quiet
exists=$(psql "$server/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$database'")
if [[ "$exists" != 1 ]]; then
  psql "$server/postgres" -qc "CREATE DATABASE $database"
  DATABASE_URL="$BENCH_DATABASE_URL" RUST_LOG=warn ./target/release/customer-portal generate --scale 1
fi
echo "$SOAK_STAFF_PASSWORD" | DATABASE_URL="$BENCH_DATABASE_URL" RUST_LOG=warn \
  ./target/release/customer-portal create-staff --email "$SOAK_STAFF_EMAIL" --name "Soak test" > /dev/null
cargo bench --quiet --bench soak
