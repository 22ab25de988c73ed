-- A report's duplicate is looked up by its callId (a call has a few reports) and decided by the
-- writer, the one connection that inserts. The index keeps only the callId: about half the
-- bytes of the unique key (callId, appId, content hash), so fewer of its pages are written per
-- report and more of it stays cached as the store grows. Building it reads every report once,
-- in this migration's transaction, at the first start of this version.
CREATE INDEX reports_by_call ON reports (call_id);
DROP INDEX reports_dedupe;
