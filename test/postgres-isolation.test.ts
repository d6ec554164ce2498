/**
 * The lean layout's isolation between the apps of one organisation, checked on a real
 * PostgreSQL (Debian's `postgresql` package): what CloudNativePG's declarative `Database` does
 * (`CREATE DATABASE … OWNER <role>`) leaves PUBLIC's default CONNECT, and the cluster's pg_hba
 * rules (ORGANISATION_PG_HBA, placed where CloudNativePG puts user rules: after its fixed local
 * rule, before its default `host all all all scram-sha-256`) are what keeps a role out of another
 * app's database. The passwords are throwaway values of this test, passed in the environment.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { ORGANISATION_PG_HBA } from "../components/storage/organisationDatabase";
import { itNeeding, onPath } from "./helpers/tools";

const BIN = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"].find((d) => fs.existsSync(path.join(d, "postgres"))) ?? "";
const available = !!BIN && onPath("psql");
const it = itNeeding("PostgreSQL server binaries", available, "apt-get install -y postgresql");
/** initdb and postgres refuse to run as root: as root, run them as the package's `postgres` user. */
const asServer = (cmd: string[]): string[] => (process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd);

let dir = "";
let port = 0;
const run = (cmd: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
};
const admin = (sql: string) => run(asServer(["psql", "-X", "-At", "-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]));
/** A network login (TCP, scram) as `role` into `db`. */
const login = (role: string, db: string) => run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", String(port), "-U", role, "-d", db, "-c", "select current_user"], { PGPASSWORD: `pw-${role}`, PGCONNECT_TIMEOUT: "5" });
const hba = (userRules: readonly string[]) => {
  // CloudNativePG's layout: fixed rules (a local one standing for its peer rule), user rules, default.
  fs.writeFileSync(path.join(dir, "pg_hba.conf"), ["local all all trust", ...userRules, "host all all all scram-sha-256", ""].join("\n"));
  expect(admin("select pg_reload_conf()").code).toBe(0);
};

describe("one organisation cluster, two apps (real PostgreSQL)", () => {
  beforeAll(() => {
    if (!available) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-pg-"));
    fs.chmodSync(dir, 0o777);
    const data = path.join(dir, "data");
    port = 20000 + (process.pid % 20000);
    expect(run(asServer([path.join(BIN, "initdb"), "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"])).code).toBe(0);
    dir = data;
    const started = run(asServer([path.join(BIN, "pg_ctl"), "-D", dir, "-w", "-l", path.join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "start"]));
    expect(started.code, started.out).toBe(0);
    for (const role of ["nextcloud", "synapse"]) {
      // What CloudNativePG does for a managed role and a declarative Database.
      expect(admin(`create role ${role} login password 'pw-${role}'`).code).toBe(0);
      expect(admin(`create database ${role} owner ${role}`).code).toBe(0);
    }
  }, 120_000);
  afterAll(() => {
    if (!dir) return;
    run(asServer([path.join(BIN, "pg_ctl"), "-D", dir, "-m", "immediate", "stop"]));
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it("a database created with OWNER still lets PUBLIC connect: the default ACL alone does not isolate the apps", () => {
    expect(admin("select has_database_privilege('synapse', 'nextcloud', 'CONNECT')").out.trim()).toBe("t");
    hba([]);
    expect(login("synapse", "nextcloud").code).toBe(0);
  });

  it("with the organisation cluster's pg_hba, each role logs in to its own database only", () => {
    hba(ORGANISATION_PG_HBA);
    expect(login("nextcloud", "nextcloud")).toMatchObject({ code: 0, out: "nextcloud\n" });
    expect(login("synapse", "synapse")).toMatchObject({ code: 0, out: "synapse\n" });
    const refused = login("synapse", "nextcloud");
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/pg_hba\.conf rejects connection/);
    expect(login("nextcloud", "postgres").out).toMatch(/pg_hba\.conf rejects connection/);
    // Still a password check: the right database with a wrong password is refused by scram.
    const wrong = run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", String(port), "-U", "nextcloud", "-d", "nextcloud", "-c", "select 1"], { PGPASSWORD: "wrong", PGCONNECT_TIMEOUT: "5" });
    expect(wrong.out).toMatch(/password authentication failed/);
  });
});
