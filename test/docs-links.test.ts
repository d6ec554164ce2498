/**
 * Every link to a section of the docs (`docs/x.md#anchor` in code, `x.md#anchor` and `#anchor`
 * in the docs) names a heading that exists, with GitHub's anchor rules (lowercase; punctuation
 * but `-` and `_` dropped; spaces to `-`; a repeated heading gets `-1`, `-2`…).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");

/** GitHub's heading anchor (github-slugger): lowercase, drop punctuation except `-`/`_`, spaces → `-`. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6} (.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = githubSlug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

function files(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    if (f === "node_modules" || f.startsWith(".")) continue;
    const p = join(dir, f);
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(ts|mts|cjs|md|ya?ml)$/.test(f)) out.push(p);
  }
  return out;
}

const DOCS = Object.fromEntries(
  readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => [f, anchorsOf(readFileSync(join(ROOT, "docs", f), "utf8"))]),
);

describe("links to doc sections", () => {
  it("the slug rule is GitHub's", () => {
    expect(githubSlug("Leaner tenants: Keycloak")).toBe("leaner-tenants-keycloak");
    expect(githubSlug("Backup server (Helsinki)")).toBe("backup-server-helsinki");
    expect(githubSlug("The offline plan of a sharded estate")).toBe("the-offline-plan-of-a-sharded-estate");
    expect(githubSlug("Measured (`npm run bench`)")).toBe("measured-npm-run-bench");
    expect(githubSlug("Volumes: k8up")).toBe("volumes-k8up");
    expect([...anchorsOf("# A\n## A\n```\n# not a heading\n```\n")]).toEqual(["a", "a-1"]);
  });

  it("every `<doc>.md#anchor` and in-page `#anchor` resolves", () => {
    const broken: string[] = [];
    for (const path of files(ROOT)) {
      const text = readFileSync(path, "utf8");
      const rel = path.slice(ROOT.length + 1);
      for (const m of text.matchAll(/([A-Za-z0-9_-]+)\.md#([A-Za-z0-9_-]+)/g)) {
        const anchors = DOCS[`${m[1]}.md`];
        if (anchors && !anchors.has(m[2])) broken.push(`${rel}: ${m[0]}`);
      }
      if (rel.startsWith("docs/") && rel.endsWith(".md")) {
        const own = DOCS[rel.slice("docs/".length)];
        for (const m of text.matchAll(/\]\(#([A-Za-z0-9_-]+)\)/g)) if (!own.has(m[1])) broken.push(`${rel}: #${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
