// Writes src/wasm/abi.ts, the runtime's side of the kernel ABI, from the kernels' side:
// the constants of assembly/abi.ts (codes, flags, pointer tags, block layouts) and the
// signatures of the functions assembly/index.ts exports (KernelExports), comments included.
// `node scripts/abi.mjs` writes it (npm run build does); generateAbi() returns the text
// (test/kernels/abi.test.ts compares it with the committed file). docs/kernels.md, "The ABI".
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ABI_SOURCE = "assembly/abi.ts";
export const EXPORTS_SOURCE = "assembly/index.ts";
export const ABI_OUTPUT = "src/wasm/abi.ts";

/** AssemblyScript value types as JavaScript sees them at the boundary. */
const JS_TYPES = {
  i8: "number", u8: "number", i16: "number", u16: "number", i32: "number", u32: "number", isize: "number", usize: "number",
  f32: "number", f64: "number", bool: "number", i64: "bigint", u64: "bigint", void: "void",
};

const fail = (file, node, message) => {
  const { line } = node.getSourceFile().getLineAndCharacterOfPosition(node.getStart());
  throw new Error(`${file}:${line + 1}: ${message}`);
};

/** The comments right above a node, as written (section lines and doc comments). */
function leadingComments(source, node) {
  const text = source.getFullText();
  return (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []).map((r) => text.slice(r.pos, r.end));
}

/** A comment re-indented by `indent` (doc comments keep their ` * ` lines aligned). */
function reindent(comment, indent) {
  return comment.split("\n").map((line, i) => (i === 0 ? indent + line.trim() : indent + (line.trim().startsWith("*") ? " " : "") + line.trim())).join("\n");
}

/** Evaluates a constant's initializer: numbers, earlier constants, parentheses, unary and binary integer operators. */
function evaluate(expr, known, file) {
  if (ts.isNumericLiteral(expr)) return Number(expr.text);
  if (ts.isParenthesizedExpression(expr)) return evaluate(expr.expression, known, file);
  if (ts.isIdentifier(expr)) {
    if (!known.has(expr.text)) fail(file, expr, `${expr.text} is not an earlier constant`);
    return known.get(expr.text);
  }
  if (ts.isPrefixUnaryExpression(expr)) {
    const v = evaluate(expr.operand, known, file);
    if (expr.operator === ts.SyntaxKind.MinusToken) return -v;
    if (expr.operator === ts.SyntaxKind.TildeToken) return ~v;
  }
  if (ts.isBinaryExpression(expr)) {
    const a = evaluate(expr.left, known, file);
    const b = evaluate(expr.right, known, file);
    switch (expr.operatorToken.kind) {
      case ts.SyntaxKind.PlusToken: return a + b;
      case ts.SyntaxKind.MinusToken: return a - b;
      case ts.SyntaxKind.AsteriskToken: return a * b;
      case ts.SyntaxKind.BarToken: return a | b;
      case ts.SyntaxKind.AmpersandToken: return a & b;
      case ts.SyntaxKind.LessThanLessThanToken: return a << b;
      case ts.SyntaxKind.GreaterThanGreaterThanToken: return a >> b;
    }
  }
  fail(file, expr, `cannot evaluate ${expr.getText()}: use numbers and earlier constants`);
}

/** The constants of assembly/abi.ts, each with the comments above it. */
function constants() {
  const file = ABI_SOURCE;
  const source = ts.createSourceFile(file, readFileSync(resolve(root, file), "utf8"), ts.ScriptTarget.ESNext, true);
  const known = new Map();
  const out = [];
  for (const st of source.statements) {
    const exported = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!ts.isVariableStatement(st) || !exported || !(st.declarationList.flags & ts.NodeFlags.Const)) {
      fail(file, st, "only exported constants belong here");
    }
    for (const d of st.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || !d.initializer) fail(file, d, "a constant needs a name and a value");
      const value = evaluate(d.initializer, known, file);
      if (known.has(d.name.text)) fail(file, d, `${d.name.text} is declared twice`);
      known.set(d.name.text, value);
      out.push({ name: d.name.text, value, comments: leadingComments(source, st) });
    }
  }
  return out;
}

/** The functions assembly/index.ts exports (its own and re-exported ones), in its order. */
function exportedFunctions() {
  const entry = resolve(root, EXPORTS_SOURCE);
  const program = ts.createProgram([entry], { noLib: true, types: [], target: ts.ScriptTarget.ESNext, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Node10 });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const fns = [];
  for (const sym of checker.getExportsOfModule(moduleSymbol)) {
    const at = sym.declarations[0];
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const decl = target.declarations?.find(ts.isFunctionDeclaration);
    if (!decl) fail(EXPORTS_SOURCE, at, `export ${sym.name} is not a function (the ABI exports functions only)`);
    const file = decl.getSourceFile();
    const params = decl.parameters.map((p) => {
      const type = p.type?.getText();
      if (!JS_TYPES[type] || type === "void") fail(file.fileName, p, `parameter ${p.name.getText()} of ${sym.name}: type ${type} cannot cross the boundary`);
      // a bool parameter takes what JS passes for a flag (true, false, or undefined for false)
      return `${p.name.getText()}${p.initializer ? "?" : ""}: ${type === "bool" ? "boolean | undefined" : JS_TYPES[type]}`;
    });
    const ret = decl.type?.getText();
    if (!JS_TYPES[ret]) fail(file.fileName, decl, `${sym.name} returns ${ret}, which cannot cross the boundary`);
    const doc = ts.getJSDocCommentsAndTags(decl).map((d) => d.getText()).at(-1);
    fns.push({ name: sym.name, params, ret: JS_TYPES[ret], doc, pos: at.getStart() });
  }
  return fns.sort((a, b) => a.pos - b.pos);
}

/** The text of src/wasm/abi.ts. */
export function generateAbi() {
  const lines = [
    `// Generated by scripts/abi.mjs from ${ABI_SOURCE} and ${EXPORTS_SOURCE}: do not edit.`,
    "// `npm run build` (or `node scripts/abi.mjs`) writes it; docs/kernels.md, \"The ABI\".",
  ];
  let started = false; // the file's own header (before its first section line) stays there
  for (const c of constants()) {
    for (const comment of c.comments) {
      const section = comment.startsWith("// ---");
      started ||= section;
      if (!started) continue;
      if (section) lines.push("");
      lines.push(reindent(comment, ""));
    }
    lines.push(`export const ${c.name} = ${c.value};`);
  }
  const fns = exportedFunctions();
  lines.push("", "/** The kernel module's exports: its memory and the functions of assembly/index.ts. */", "export interface KernelExports {", "  memory: WebAssembly.Memory;");
  for (const f of fns) {
    if (f.doc) lines.push(reindent(f.doc, "  "));
    lines.push(`  ${f.name}(${f.params.join(", ")}): ${f.ret};`);
  }
  lines.push("}", "", "/** Each exported function with its parameter count (test/kernels/abi.test.ts checks both builds). */");
  lines.push("export const KERNEL_FUNCTIONS: Record<keyof Omit<KernelExports, \"memory\">, number> = {");
  for (const f of fns) lines.push(`  ${f.name}: ${f.params.length},`);
  lines.push("};", "");
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(resolve(root, ABI_OUTPUT), generateAbi());
  console.log(`wrote ${ABI_OUTPUT}`);
}
