-- touchpass on PostgreSQL: what a verify-only host may do (README "Many mail servers, one
-- store"). Run it once, as the database's owner or a superuser, connected to the touchpass
-- database, after the first touchpassd has created the tables (they belong to the role the
-- issuing hosts use, here "touchpass"), and again after an upgrade that adds tables.
--
-- A verify-only host (a mail server that only checks app passwords) connects as
-- touchpass_verify. It reads everything verification needs; it records the last use of app
-- passwords, failure counts and locks, and appends the refusal and lock-out entries of the
-- audit log (chained under the pepper's key like every other entry). It can neither add,
-- change, revive nor revoke an app password or a security key, nor rewrite the audit log.
-- Give it a password with \password touchpass_verify, and put that in the host's
-- postgresql_password_file.

CREATE ROLE touchpass_verify LOGIN;

GRANT SELECT ON touchpass_schema, tokens, grants, audit, throttle, meta, invitations
  TO touchpass_verify;
-- The last use of an app password: these three columns only (they are outside its MAC).
GRANT UPDATE (last_used, last_service, last_remote) ON grants TO touchpass_verify;
-- Attempts under evaluation, failure counts and locks, shared by every host.
GRANT INSERT, UPDATE, DELETE ON throttle TO touchpass_verify;
-- Refusals and lock-outs, appended to the chained audit log.
GRANT INSERT ON audit TO touchpass_verify;
