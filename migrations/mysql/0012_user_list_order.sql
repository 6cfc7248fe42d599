-- The unfiltered user list (`/api/users/search` without a query, the Administration → Users
-- page) in each of its sort orders: login, email, name and last seen, ties broken by id. Each
-- index holds the service-account flag too (MySQL has no partial indexes), so a page deep in the
-- list is found from the index alone and only its rows are read from the table.
CREATE INDEX IDX_user_list_login ON `user` (login, id, is_service_account);
CREATE INDEX IDX_user_list_email ON `user` (email, id, is_service_account);
CREATE INDEX IDX_user_list_name ON `user` (name, id, is_service_account);
CREATE INDEX IDX_user_list_last_seen_at ON `user` (last_seen_at, id, is_service_account);
