-- The live stream's step.created events, one row per run and commit (issue 2 and 8): a row names the run's
-- steps the commit created, seq first_seq to first_seq + step_count - 1 (a writer settles a run's new seqs
-- contiguously under the run's lock), and readers expand it into one event per step from the step table.
-- A row per step cost the writer ~22 µs per span (heap row, identity, primary key) for ~1 row in 10
-- after this. Rows written before keep one step each (object_id, no range).
ALTER TABLE stream_event ALTER COLUMN object_id DROP NOT NULL;
ALTER TABLE stream_event ADD COLUMN first_seq integer;
ALTER TABLE stream_event ADD COLUMN step_count integer;
ALTER TABLE stream_event ADD CONSTRAINT stream_event_object_or_steps CHECK (
  (object_id IS NOT NULL AND first_seq IS NULL AND step_count IS NULL)
  OR (object_id IS NULL AND type = 'step.created' AND first_seq >= 1 AND step_count >= 1)
);
-- Positions are (commit, row id, step within the row); the horizon keeps the third part too.
ALTER TABLE stream_horizon ADD COLUMN n integer NOT NULL DEFAULT 0;
