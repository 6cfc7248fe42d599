-- Substring search on team names through a trigram index, as for users.

CREATE INDEX IDX_team_name_trgm ON team USING gin (name gin_trgm_ops);
