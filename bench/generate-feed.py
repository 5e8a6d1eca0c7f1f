#!/usr/bin/env python3
"""Writes a deterministic ERP feed (JSON Lines) for the import benchmark.

usage: generate-feed.py ORDER_LINES > feed.jsonl

Each order has 4 lines (hardware with serials, software held for hardware, a service, more
hardware), is confirmed, gets an ETA change, ships in two shipments, has its software
e-mailed, its shipments delivered and is invoiced. Companies C-B0000..C-B0199 must exist.
"""
import json
import sys

COMPANIES = 200


def record(kind, **fields):
    fields = {"kind": kind, **fields}
    return json.dumps(fields, separators=(",", ":"))


def main():
    order_lines = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out = sys.stdout
    out.write(record("vendor", name="Bastion Networks", softwareAfterHardware=True) + "\n")
    out.write(record("vendor", name="Orion Systems", softwareAfterHardware=False) + "\n")
    products = []
    for index in range(40):
        vendor = "Bastion Networks" if index % 2 == 0 else "Orion Systems"
        kind, method = [("HARDWARE", "PHYSICAL"), ("SOFTWARE", "ELECTRONIC"), ("SERVICE", "ELECTRONIC"), ("HARDWARE", "PHYSICAL")][index % 4]
        sku = f"SKU-{index:03d}"
        products.append((sku, kind))
        out.write(record("product", sku=sku, description=f"Product {index}", productKind=kind, deliveryMethod=method, vendorName=vendor) + "\n")
    serial = 0
    for order in range(order_lines // 4):
        number = f"SO-{order:07d}"
        day = 1 + order % 28
        lines = []
        for line in range(4):
            sku, kind = products[(order * 4 + line) % 40 // 4 * 4 + line]
            lines.append({"lineNumber": line + 1, "sku": sku, "quantity": 1 + (order + line) % 4, "unitPrice": f"{10 + (order * 7 + line) % 990}.50", "eta": f"2026-10-{day:02d}"})
        out.write(record("order", orderNumber=number, customerNumber=f"C-B{order % COMPANIES:04d}", customerReference=f"PO-{order}", orderDate=f"2026-09-{day:02d}", currency="EUR", lines=lines) + "\n")
        out.write(record("confirmation", orderNumber=number) + "\n")
        out.write(record("eta", orderNumber=number, lineNumber=1, eta=f"2026-11-{day:02d}", reason="Vendor lead time extended") + "\n")
        for part, line_numbers in (("A", [1]), ("B", [4])):
            shipment_lines = []
            for line_number in line_numbers:
                quantity = lines[line_number - 1]["quantity"]
                serials = [f"SN{serial + unit:09d}" for unit in range(quantity)]
                serial += quantity
                shipment_lines.append({"lineNumber": line_number, "quantity": quantity, "serialNumbers": serials})
            shipment = f"SH-{order:07d}-{part}"
            out.write(record("shipment", shipmentNumber=shipment, orderNumber=number, shipDate=f"2026-11-{day:02d}", carrier="DHL", trackingNumber=f"TRK{order:07d}{part}", lines=shipment_lines) + "\n")
            out.write(record("shipmentDelivered", shipmentNumber=shipment, deliveredAt=f"2026-11-{day:02d}T16:00:00Z") + "\n")
        for line_number in (2, 3):
            out.write(record("delivery", orderNumber=number, lineNumber=line_number, quantity=lines[line_number - 1]["quantity"], recipientEmail="it@reseller.example", deliveredAt=f"2026-11-{day:02d}T17:00:00Z") + "\n")
        out.write(record("invoice", invoiceNumber=f"INV-{order:07d}", orderNumber=number, invoiceDate=f"2026-11-{day:02d}", lines=[{"lineNumber": n + 1, "quantity": lines[n]["quantity"]} for n in range(4)]) + "\n")


if __name__ == "__main__":
    main()
