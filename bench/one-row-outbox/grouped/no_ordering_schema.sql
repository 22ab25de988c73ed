-- The current schema without deliveries_ordering (its checks would read an index by call).
DROP INDEX deliveries_ordering;
