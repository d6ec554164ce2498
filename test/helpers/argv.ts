/**
 * Finding secrets on command lines: every command a plan's resources will run (container
 * command/args, shell scripts in them, Helm-value hooks, `command` resources, cloud-init
 * runcmd) is split into simple commands; a simple command that starts a process (not a shell
 * builtin) and has a secret among its arguments is a leak: any user who can list processes on
 * the node reads it (`ps`, /proc/<pid>/cmdline).
 *
 * A secret is: an environment variable filled from a Secret (`valueFrom.secretKeyRef`) or named
 * like one (SECRET, PASSWORD, TOKEN, PRIVATE), Kubernetes' own `$(VAR)` expansion of them in
 * command/args, or a secret value itself (the harness's `[secret]` placeholder).
 */
import { parse as parseYaml } from "yaml";
import type { RecordedResource } from "../../scripts/harness";

export interface ArgvLeak {
  resource: string;
  where: string;
  command: string;
}

const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE)/i;
/** Shell builtins that start no process (their arguments are never in a process's argv). */
const BUILTINS = new Set([
  "export", "printf", "echo", "test", "[", "read", "local", "set", "unset", "shift", "case", "esac", "for", "do", "done",
  "if", "then", "else", "elif", "fi", "while", "until", "return", "exit", ":", "cd", "trap", "true", "false", "{", "}", "wait",
]);

const isObj = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Names of the secret variables visible to a container: from Secrets, or named like secrets. */
function secretVars(env: unknown): Set<string> {
  const out = new Set<string>();
  for (const e of Array.isArray(env) ? env : []) if (isObj(e) && typeof e.name === "string" && (e.valueFrom?.secretKeyRef || SECRET_NAME.test(e.name))) out.add(e.name);
  return out;
}

/** Does a piece of shell text reference a secret? */
function refersToSecret(text: string, vars: Set<string>): boolean {
  if (text.includes("[secret]") || text.includes("MOCKSECRET")) return true;
  for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) if (vars.has(m[1]) || SECRET_NAME.test(m[1])) return true;
  return false;
}

/** Simple commands of a POSIX shell script (quotes respected roughly; quoted here-documents scanned, unquoted ones are data). */
export function simpleCommands(script: string): string[] {
  const out: string[] = [];
  // Continuation lines belong to the command above.
  const lines = script.replace(/\\\n/g, " ").split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const heredoc = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(line);
    if (heredoc) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === heredoc[2]);
      const body = lines.slice(i + 1, end < 0 ? lines.length : end);
      // A quoted delimiter keeps the body literal: it is a script written somewhere and run later.
      if (heredoc[1]) out.push(...simpleCommands(body.join("\n")));
      i = end < 0 ? lines.length : end;
    }
    line = line.replace(/(^|\s)#.*$/, "");
    // Command substitutions are commands too.
    for (const m of line.matchAll(/\$\(([^()]*)\)/g)) out.push(...simpleCommands(m[1]));
    for (let part of splitOutsideQuotes(line)) {
      part = part.trim();
      // A case pattern `pat)` before the command.
      const pat = /^[^\s()]*\)\s*/.exec(part);
      if (pat && !part.startsWith("(")) part = part.slice(pat[0].length);
      if (part) out.push(part);
    }
  }
  return out;
}

function splitOutsideQuotes(line: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let q: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      cur += c;
      if (c === "\\" && q === '"' && i + 1 < line.length) cur += line[++i];
      else if (c === q) q = undefined;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      cur += c;
    } else if (c === "\\") {
      cur += c + (line[i + 1] ?? "");
      i++;
    } else if (c === ";" || c === "|" || c === "&") {
      parts.push(cur);
      cur = "";
      if (line[i + 1] === c) i++;
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/** The process a simple command starts (after assignments and `exec`/`command`), or undefined for a builtin or assignment-only line. */
function processOf(cmd: string): { name: string; args: string } | undefined {
  let rest = cmd.trim();
  for (;;) {
    const assign = /^[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|'[^']*'|\S*)\s*/.exec(rest);
    if (assign) {
      rest = rest.slice(assign[0].length);
      continue;
    }
    const wrapper = /^(exec|command|nohup)\s+/.exec(rest);
    if (wrapper) {
      rest = rest.slice(wrapper[0].length);
      continue;
    }
    break;
  }
  if (!rest || rest.startsWith("(") || rest.startsWith(")")) return undefined;
  const name = rest.split(/\s+/)[0].replace(/^["']|["']$/g, "");
  if (BUILTINS.has(name) || /^[A-Za-z_][A-Za-z0-9_]*\(\)$/.test(name)) return undefined;
  return { name, args: rest.slice(rest.split(/\s+/)[0].length) };
}

/** Leaks in one shell script run with the given secret variables. */
export function scriptLeaks(script: string, vars: Set<string>): string[] {
  return simpleCommands(script).filter((c) => {
    const p = processOf(c);
    return p !== undefined && refersToSecret(p.args, vars);
  });
}

const SHELLS = /(^|\/)(sh|bash|ash|dash)$/;

/** Leaks of one container spec (command/args, shell scripts in them, `$(VAR)` expansion). */
function containerLeaks(c: Record<string, any>, extraVars: Set<string> = new Set()): string[] {
  const vars = new Set([...secretVars(c.env), ...extraVars]);
  const argv = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].map(String);
  const out: string[] = [];
  const shell = argv.findIndex((a) => SHELLS.test(a));
  if (shell >= 0 && argv[shell + 1] === "-c") {
    out.push(...scriptLeaks(argv[shell + 2] ?? "", vars));
    // Kubernetes expands $(VAR) in command/args before the shell runs.
    for (const m of (argv[shell + 2] ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) if (vars.has(m[1])) out.push(`$(${m[1]}) in the script`);
  } else {
    for (const a of argv) {
      for (const m of a.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) if (vars.has(m[1]) || SECRET_NAME.test(m[1])) out.push(a);
      if (a.includes("[secret]") || a.includes("MOCKSECRET")) out.push(a);
    }
  }
  return out;
}

/** Every leak in a set of plan records. */
export function argvLeaks(resources: RecordedResource[]): { leaks: ArgvLeak[]; scanned: { containers: number; scripts: number } } {
  const leaks: ArgvLeak[] = [];
  const scanned = { containers: 0, scripts: 0 };
  for (const r of resources) {
    const walk = (v: unknown, path: string, env: Set<string>) => {
      if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`, env));
      if (!isObj(v)) {
        // A script anywhere in the inputs (Helm hooks, ConfigMaps of scripts).
        if (typeof v === "string" && /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba|da)?sh\b/.test(v)) {
          scanned.scripts++;
          for (const c of scriptLeaks(v, env)) leaks.push({ resource: r.name, where: path, command: c });
        }
        return;
      }
      // A container (a pod spec's, or a chart value shaped like one).
      if (typeof v.name === "string" && (Array.isArray(v.command) || Array.isArray(v.args))) {
        scanned.containers++;
        for (const c of containerLeaks(v)) leaks.push({ resource: r.name, where: path, command: c });
      }
      // Environment of the values around (a chart's extraEnv applies to its hooks).
      const here = new Set([...env, ...secretVars(v.extraEnv), ...secretVars(v.env)]);
      for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, here);
    };
    walk(r.inputs, r.type, new Set());
    // command resources: create/update/delete run by a shell; their stdin and environment are not argv.
    if (r.type.startsWith("command:")) {
      const vars = new Set(Object.keys(isObj(r.inputs.environment) ? r.inputs.environment : {}).filter((k) => SECRET_NAME.test(k)));
      const stdin = typeof r.inputs.stdin === "string" ? r.inputs.stdin : "";
      for (const m of stdin.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)) vars.add(m[1]);
      for (const k of ["create", "update", "delete"]) {
        if (typeof r.inputs[k] !== "string") continue;
        scanned.scripts++;
        for (const c of scriptLeaks(r.inputs[k] as string, vars)) leaks.push({ resource: r.name, where: k, command: c });
      }
    }
    // cloud-init: runcmd entries are commands.
    if (typeof r.inputs.userData === "string" && r.inputs.userData.startsWith("#cloud-config")) {
      const doc = parseYaml(r.inputs.userData) as { runcmd?: unknown[] };
      for (const [i, c] of (doc?.runcmd ?? []).entries()) {
        scanned.scripts++;
        const text = Array.isArray(c) ? c.map(String).join(" ") : String(c);
        for (const l of scriptLeaks(text, new Set())) leaks.push({ resource: r.name, where: `runcmd[${i}]`, command: l });
      }
    }
  }
  return { leaks, scanned };
}
