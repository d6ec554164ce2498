/**
 * "One home per fact" (STYLE.md), checked on the TypeScript syntax tree, not on text: the
 * estate's shared names (labels, namespaces, host prefixes, the edge's classes, the issuer) are
 * written as literals only in their home module; everywhere else they are read from it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { HOST_PREFIXES } from "../../components/config/hosts";
import { NAMESPACES, PLATFORM, PREFIX } from "../../components/conventions";

/** Where each fact may be written as a literal. */
export const HOMES = { conventions: "components/conventions.ts", hosts: "components/config/hosts.ts" };

const prefixes = new Set<string>(Object.values(HOST_PREFIXES));
const namespaces = new Set<string>(Object.values(NAMESPACES));
const issuers = new Set<string>([PLATFORM.clusterIssuer, PLATFORM.clusterIssuerStaging]);
const CLASS_KEYS = new Set(["ingressClassName", "gatewayClassName", "className"]);
const NAMESPACE_KEYS = new Set(["namespace"]);

const keyOf = (n: ts.PropertyAssignment): string | undefined =>
  ts.isIdentifier(n.name) || ts.isStringLiteral(n.name) ? n.name.text : undefined;

/** Problems of one file: `file:line: what`. `file` is shown relative to `root`. */
export function factProblemsIn(file: string, root: string, text = fs.readFileSync(file, "utf8")): string[] {
  const rel = path.relative(root, file).split(path.sep).join("/");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const at = (n: ts.Node, what: string) => out.push(`${rel}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${what}`);
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
      const s = n.text;
      if (rel !== HOMES.conventions && s.includes(`${PREFIX}/`)) at(n, `label/annotation key ${JSON.stringify(s)}: use LABELS/ANNOTATIONS/HCLOUD_LABELS (conventions.ts)`);
      if (rel !== HOMES.conventions && s === PLATFORM.clusterIssuerAnnotation) at(n, `${JSON.stringify(s)}: use PLATFORM.clusterIssuerAnnotation`);
      if (rel !== HOMES.conventions && issuers.has(s)) at(n, `issuer name ${JSON.stringify(s)}: use PLATFORM.clusterIssuer`);
      if (rel !== HOMES.hosts) {
        // `cloud.${domain}` (a template head ending in a prefix and a dot) or "office.{domain}".
        const m = /(?:^|[^A-Za-z0-9-])([a-z0-9-]+)\.(?:\{domain\})?$/.exec(s);
        if (m && prefixes.has(m[1]) && (ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || s.endsWith("{domain}"))) at(n, `host prefix ${JSON.stringify(m[1])}: use HOST_PREFIXES (config/hosts.ts)`);
      }
    }
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "hostOf" && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0]) && rel !== HOMES.hosts) {
      at(n, `hostOf(${JSON.stringify(n.arguments[0].text)}, …): use HOST_PREFIXES`);
    }
    if (ts.isPropertyAssignment(n) && ts.isStringLiteralLike(n.initializer) && rel !== HOMES.conventions) {
      const k = keyOf(n);
      if (k && CLASS_KEYS.has(k) && (n.initializer.text === PLATFORM.ingressClass || n.initializer.text === PLATFORM.gatewayClass)) at(n, `${k}: ${JSON.stringify(n.initializer.text)}: use PLATFORM.ingressClass/gatewayClass`);
      if (k && NAMESPACE_KEYS.has(k) && namespaces.has(n.initializer.text)) at(n, `namespace ${JSON.stringify(n.initializer.text)}: use NAMESPACES (conventions.ts)`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

export function factProblems(files: string[], root = process.cwd()): string[] {
  return files.flatMap((f) => factProblemsIn(path.resolve(root, f), root));
}
