-- Runs declared over native REST (POST /v1/runs) own their lifecycle: their name and start come from the
-- declaration and their end from :finish, so a root span in their trace is an ordinary step of them.
-- Also what tells a retried declaration (answered with the run) from one adopting a run first seen in spans.
ALTER TABLE run ADD COLUMN declared boolean NOT NULL DEFAULT false;
