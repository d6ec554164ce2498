/**
 * The layering STYLE.md draws, checked on the import graph the TypeScript compiler reads
 * (test/helpers/imports.ts): components/config is a leaf; and component type tokens
 * `liiibre:<module>:<Type>` name the folder their class lives in.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import ts from "typescript";
import { edgesLeaving, importsOf, sourcesUnder, specifiersOf } from "./helpers/imports";

const ROOT = path.resolve(__dirname, "..");
const rel = (f: string) => path.relative(ROOT, f);

describe("components/config is a leaf", () => {
  it("nothing it reaches by imports lies outside it", () => {
    const leaving = edgesLeaving(path.join(ROOT, "components/config"));
    expect(leaving.map((e) => `${rel(e.from)} → ${e.specifier}`)).toEqual([]);
  });

  it("the estate's rules are assembled outside it, from every domain", () => {
    const estate = importsOf(path.join(ROOT, "components/estate.ts")).map((e) => e.to && rel(e.to));
    for (const m of ["hetzner/rules", "hetzner/limits", "storage/rules", "tenant/rules", "shared/rules", "ops/rules", "layers/rules", "k0s/rules", "platform/rules", "config/index"]) {
      expect(estate).toContain(`components/${m}.ts`);
    }
  });
});

describe("the estate's validation", () => {
  it("runs every rule a domain exports (an exported `…Rules` rule missing from ESTATE_RULES is never run)", async () => {
    const { ESTATE_RULES } = await import("../components/estate");
    const modules = ["hetzner/rules", "hetzner/limits", "k0s/rules", "storage/rules", "tenant/rules", "shared/rules", "ops/rules", "layers/rules", "platform/rules", "apps/rules"];
    const exported: string[] = [];
    for (const m of modules) {
      const mod = (await import(`../components/${m}`)) as Record<string, unknown>;
      for (const [name, v] of Object.entries(mod)) {
        // A Rule takes the estate alone; helpers such as appRules(apps, path) take more.
        if (name.endsWith("Rules") && typeof v === "function" && v.length === 1) {
          exported.push(name);
          expect(ESTATE_RULES, `${m}.${name}`).toContain(v);
        }
      }
    }
    expect(exported.length).toBe(ESTATE_RULES.length);
  });
});

describe("the import-graph check fails where it should", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "structure-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (f: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  };
  write("hetzner/limits.ts", "export const hetznerRules = [];\n");
  write("storage/settings.ts", "export const BUCKET = 'b';\n");
  write("ops/mail.ts", "export type Mail = string;\n");
  write("layers/rules.ts", "export const shardingRules = [];\n");
  write("util.ts", "import { BUCKET } from './storage/settings';\nexport const u = BUCKET;\n");

  it("finds a value import, a type-only import, a re-export and a dynamic import leaving the folder", () => {
    write("config/a.ts", "import { hetznerRules } from '../hetzner/limits';\nexport const x = hetznerRules;\n");
    write("config/b.ts", "import type { Mail } from '../ops/mail';\nexport type M = Mail;\n");
    write("config/c.ts", "export * from '../storage/settings';\n");
    write("config/d.ts", "export const load = () => import('../layers/rules');\n");
    const found = edgesLeaving(path.join(dir, "config")).map((e) => `${path.basename(e.from)} → ${e.specifier}`).sort();
    expect(found).toEqual(["a.ts → ../hetzner/limits", "b.ts → ../ops/mail", "c.ts → ../storage/settings", "d.ts → ../layers/rules"]);
    for (const f of ["a", "b", "c", "d"]) fs.rmSync(path.join(dir, `config/${f}.ts`));
  });

  it("follows an allowed utility to what it imports", () => {
    write("config/e.ts", "import { u } from '../util';\nexport const y = u;\n");
    const found = edgesLeaving(path.join(dir, "config"), [path.join(dir, "util.ts")]).map((e) => `${path.basename(e.from)} → ${e.specifier}`);
    expect(found).toEqual(["util.ts → ./storage/settings"]);
  });

  it("imports inside the folder and packages are not edges out", () => {
    write("config/f.ts", "import { z } from 'zod';\nimport * as fs from 'node:fs';\nexport const z2 = z;\n");
    write("config/g.ts", "import { z2 } from './f';\nexport const q = z2;\n");
    expect(edgesLeaving(path.join(dir, "config"), [path.join(dir, "util.ts")]).map((e) => path.basename(e.from))).toEqual(["util.ts"]);
    expect(specifiersOf("x.ts", "import a = require('../k0s');\nconst b = require('../apps');\ntype T = import('../tenant').T;\n")).toEqual(["../k0s", "../apps", "../tenant"]);
  });
});

/** `liiibre:…` type tokens passed to `super(...)` by classes extending a ComponentResource. */
function componentTokens(file: string, text = fs.readFileSync(file, "utf8")): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node, inComponent: boolean): void => {
    let inside = inComponent;
    if (ts.isClassDeclaration(node)) {
      inside = (node.heritageClauses ?? []).some((h) => h.token === ts.SyntaxKind.ExtendsKeyword && h.types.some((t) => t.expression.getText(sf).endsWith("ComponentResource")));
    }
    if (inside && ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword) {
      const first = node.arguments[0];
      out.push(first && ts.isStringLiteralLike(first) ? first.text : `<not a literal: ${first?.getText(sf)}>`);
    }
    ts.forEachChild(node, (c) => visit(c, inside));
  };
  visit(sf, false);
  return out;
}

/** Components whose token's module is not their folder under components/. */
function misplacedTokens(componentsDir: string): string[] {
  const out: string[] = [];
  for (const f of sourcesUnder(componentsDir)) {
    const folder = path.relative(componentsDir, f).split(path.sep)[0];
    for (const t of componentTokens(f)) {
      const m = /^liiibre:([a-z0-9]+):[A-Z][A-Za-z0-9]*$/.exec(t);
      if (!m || m[1] !== folder) out.push(`${path.relative(componentsDir, f)}: ${t}`);
    }
  }
  return out;
}

describe("component type tokens", () => {
  it("every component under components/ is liiibre:<its folder>:<Type>", () => {
    const components = path.join(ROOT, "components");
    expect(misplacedTokens(components)).toEqual([]);
    // The check saw the components (a parse that finds nothing would pass vacuously).
    const seen = sourcesUnder(components).flatMap((f) => componentTokens(f));
    expect(seen).toContain("liiibre:tenant:Tenant");
    expect(seen).toContain("liiibre:hetzner:HetznerCompute");
    expect(seen.length).toBeGreaterThan(25);
  });

  it("a token naming another folder, or a computed one, is reported", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokens-"));
    try {
      fs.mkdirSync(path.join(dir, "storage"));
      fs.writeFileSync(
        path.join(dir, "storage/x.ts"),
        [
          'import * as pulumi from "@pulumi/pulumi";',
          'export class A extends pulumi.ComponentResource { constructor() { super("liiibre:storage:A", "a"); } }',
          'export class B extends pulumi.ComponentResource { constructor() { super("liiibre:tenant:B", "b"); } }',
          'const T = "liiibre:storage:C";',
          'export class C extends pulumi.ComponentResource { constructor() { super(T, "c"); } }',
          'export class D extends Error { constructor() { super("liiibre:x:not-a-component"); } }',
        ].join("\n"),
      );
      expect(misplacedTokens(dir)).toEqual(["storage/x.ts: liiibre:tenant:B", "storage/x.ts: <not a literal: T>"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
