/**
 * The import graph of TypeScript sources, read with the TypeScript compiler (its parser and its
 * module resolution), not with a text search: `import`, `import type`, `export … from`,
 * `import x = require(…)`, dynamic `import(…)` and `require(…)` all count.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

const OPTIONS: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, allowJs: false, resolveJsonModule: true };

/** Module specifiers a file names, in source order. */
export function specifiersOf(file: string, text = fs.readFileSync(file, "utf8")): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      out.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1 && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require")) out.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export interface ImportEdge {
  from: string;
  specifier: string;
  /** Absolute path of the resolved source file; undefined for packages (node_modules, node:). */
  to?: string;
}

/** The edges out of `file`: each specifier and the project file it resolves to, if any. */
export function importsOf(file: string): ImportEdge[] {
  const host = ts.createCompilerHost(OPTIONS);
  return specifiersOf(file).map((specifier) => {
    const resolved = ts.resolveModuleName(specifier, file, OPTIONS, host).resolvedModule;
    const to = resolved && !resolved.isExternalLibraryImport ? path.resolve(resolved.resolvedFileName) : undefined;
    if (!to && (specifier.startsWith(".") || specifier.startsWith("/"))) throw new Error(`${file}: cannot resolve ${specifier}`);
    return { from: path.resolve(file), specifier, to };
  });
}

/** Every project file reachable from `roots` by imports, with the edges walked. */
export function importClosure(roots: string[]): { files: Set<string>; edges: ImportEdge[] } {
  const files = new Set<string>();
  const edges: ImportEdge[] = [];
  const todo = roots.map((r) => path.resolve(r));
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const e of importsOf(f)) {
      edges.push(e);
      if (e.to && !files.has(e.to)) todo.push(e.to);
    }
  }
  return { files, edges };
}

/** `.ts` files of a folder (not recursive into node_modules). */
export function sourcesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts") && !d.name.endsWith(".d.ts"))
    .map((d) => path.join(d.parentPath, d.name))
    .filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`));
}

/**
 * Edges of the closure of `dir`'s files that leave `dir` for a project file not in `allowed`
 * (absolute paths): what makes `dir` not a leaf.
 */
export function edgesLeaving(dir: string, allowed: string[] = []): ImportEdge[] {
  const root = path.resolve(dir) + path.sep;
  const ok = new Set(allowed.map((a) => path.resolve(a)));
  return importClosure(sourcesUnder(dir)).edges.filter((e) => e.to && !e.to.startsWith(root) && !ok.has(e.to));
}
