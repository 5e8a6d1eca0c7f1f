-- The floor of the dashboard benchmark: the fewest statements that fetch the same page as
-- bench/dashboard.graphql, one batched statement per level, run by pgbench with prepared
-- statements. Each level hands its keys to the next through \gset; client k reads company
-- k + 1, as the benchmark's connection k signs in as that company's administrator.
\set company :client_id + 1
WITH page AS (
  SELECT * FROM orders
  WHERE company_id = :company AND confirmed_at IS NOT NULL
  ORDER BY order_date DESC, id DESC LIMIT 51
)
SELECT coalesce(array_agg(id), '{}') AS order_ids, coalesce(json_agg(page), '[]') AS order_rows
FROM page \gset
SELECT count(*) FROM orders WHERE company_id = :company AND confirmed_at IS NOT NULL;
WITH lines AS (
  SELECT * FROM order_lines WHERE order_id = ANY (:order_ids) ORDER BY line_number, id
)
SELECT coalesce(array_agg(id), '{}') AS line_ids,
       coalesce(array_agg(DISTINCT product_id), '{}') AS product_ids,
       coalesce(json_agg(lines), '[]') AS line_rows
FROM lines \gset
WITH items AS (SELECT * FROM products WHERE id = ANY (:product_ids))
SELECT coalesce(array_agg(DISTINCT vendor_id), '{}') AS vendor_ids,
       coalesce(json_agg(items), '[]') AS product_rows
FROM items \gset
SELECT * FROM vendors WHERE id = ANY (:vendor_ids);
SELECT * FROM eta_changes WHERE order_line_id = ANY (:line_ids) ORDER BY changed_at, id;
WITH sent AS (
  SELECT * FROM shipments WHERE order_id = ANY (:order_ids) ORDER BY ship_date, id
)
SELECT coalesce(array_agg(id), '{}') AS shipment_ids, coalesce(json_agg(sent), '[]') AS shipment_rows
FROM sent \gset
WITH parts AS (
  SELECT * FROM shipment_lines WHERE shipment_id = ANY (:shipment_ids) ORDER BY id
)
SELECT coalesce(array_agg(id), '{}') AS shipment_line_ids,
       coalesce(json_agg(parts), '[]') AS shipment_line_rows
FROM parts \gset
SELECT * FROM serial_numbers WHERE shipment_line_id = ANY (:shipment_line_ids) ORDER BY serial;
