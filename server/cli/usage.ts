export const USAGE = `Data Lab — 数据实验室

Usage: npm run lab -- <command> [options]      (npm start = npm run lab -- start)

  start                          boot the lab: migrate, seed a small city on first start, start the
                                 domain workers and the server; prints the URL and demo logins
  coordinator                    the server and coordinator alone (docs/deploy.md): the control database at
                                 LAB_CONTROL_DATABASE_URL, BullMQ at REDIS_URL; no admin URL, no domain
                                 credentials, no workers (each department runs its own \`worker\`)
  migrate                        create (Postgres mode: provision databases and roles) and migrate every database
  seed --persons N --seed S [--truth FILE] [--as-of YYYY-MM-DD]
                                 load a deterministic synthetic city into the six domains and write
                                 its ground truth to FILE (outside every domain)
  user add --username U --role ROLE [--domain D] [--display-name NAME]
                                 create a user; the password is read from standard input
                                 (roles: analyst officer researcher steward admin; stewards need --domain)
  worker --domain D              run one domain's worker (Postgres mode); it holds only that domain's
                                 credentials (LAB_DOMAIN_DATABASE_URL, else <LAB_DATA_DIR>/secrets/D.json)
  face enroll --id-number N --photo FILE [--captured-on YYYY-MM-DD] [--replace] [--by NAME]
  face enroll --manifest FILE.json [--replace] [--by NAME]
                                 enroll reference photos inside the registry domain (S5): each photo is
                                 analysed by the face engine and stored with its template in
                                 registry.reference_photo, all or nothing; runs with the registry's own
                                 credentials only (LAB_DOMAIN_DATABASE_URL, else <LAB_DATA_DIR>/secrets/
                                 registry.json; embedded: stop the lab first). Manifest: a JSON array of
                                 { "idNumber", "photo" (path relative to the manifest), "capturedOn"? }
  audit verify [--json]          check the audit trail: every hash, no gaps, the signed checkpoints;
                                 names the first bad entry; exit code 0 intact, 1 broken
  audit checkpoint               sign the audit trail's head now (needs the signing key)
  reset --yes                    delete every database of this lab (embedded: the data folder)
  help                           this text

Environment: PORT (8080), LAB_DATA_DIR (.lab-data/), DATABASE_URL (Postgres admin URL; unset = embedded
PGlite), REDIS_URL (needed with DATABASE_URL), LAB_DEMO_PASSWORD, LAB_DB_PREFIX (lab),
LAB_SEED_PERSONS (20000), LAB_LOG_LEVEL (info), LAB_AUDIT_SIGNING_KEY_FILE (<LAB_DATA_DIR>/secrets/
audit-signing-key.pem, created on first start), LAB_AUDIT_CHECKPOINT_MINUTES (10).
`;
