#!/usr/bin/env bash
# Import benchmark: loads a generated ERP feed of ORDER_LINES order lines (default 100,000)
# with shipments, serials, e-mail deliveries and invoices into a fresh PostgreSQL database
# through `customer-portal import`, then imports it again (every record unchanged).
# Prints records per second and peak memory of each run. Run by hand, not by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
order_lines=${1:-100000}
server=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
database=cp_bench_import

cargo build --release --quiet
feed=$(mktemp --suffix=.jsonl)
trap 'rm -f "$feed"' EXIT
python3 bench/generate-feed.py "$order_lines" > "$feed"
echo "feed: $(wc -l < "$feed") records, $(du -h "$feed" | cut -f1), $order_lines order lines"

psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
export DATABASE_URL="$server/$database" RUST_LOG=warn JWT_SECRET=benchmark-secret-benchmark-secret-0000
./target/release/customer-portal migrate
# Customers come from onboarding, not from the feed.
psql "$DATABASE_URL" -qc "INSERT INTO companies (name, customer_number, created_at)
  SELECT 'Reseller ' || n, 'C-B' || lpad(n::text, 4, '0'), now() FROM generate_series(0, 199) AS n"

echo "first import:"
./target/release/customer-portal import "$feed"
echo "second import of the same feed:"
./target/release/customer-portal import "$feed"
psql "$DATABASE_URL" -Atc "SELECT 'rows: ' || (SELECT count(*) FROM orders) || ' orders, ' || (SELECT count(*) FROM order_lines) || ' lines, ' || (SELECT count(*) FROM serial_numbers) || ' serials'"
psql "$server/postgres" -qc "DROP DATABASE $database WITH (FORCE)"
