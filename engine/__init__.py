"""mahnwerk's engine: advances invoices through their segment's graph, persisted and explained."""
