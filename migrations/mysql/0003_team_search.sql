-- MySQL has no trigram index; team names are matched with LIKE over the org's teams
-- (IDX on org_id narrows the scan).

SELECT 1;
