-- Substring search on team names through a trigram index, as for users (user_search).

CREATE VIRTUAL TABLE team_search USING fts5(
  name, content='team', content_rowid='id', tokenize='trigram case_sensitive 0'
);
INSERT INTO team_search(rowid, name) SELECT id, name FROM team;
CREATE TRIGGER team_search_ai AFTER INSERT ON team BEGIN
  INSERT INTO team_search(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER team_search_ad AFTER DELETE ON team BEGIN
  INSERT INTO team_search(team_search, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER team_search_au AFTER UPDATE OF name ON team BEGIN
  INSERT INTO team_search(team_search, rowid, name) VALUES ('delete', old.id, old.name);
  INSERT INTO team_search(rowid, name) VALUES (new.id, new.name);
END;
