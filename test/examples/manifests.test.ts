/**
 * The examples' own package.json files: every script runs a command that `npm install` in
 * that folder provides (a dependency's bin) or Node itself, so `npm run dev` works after
 * `npm install` without a tool the reader has to know to install.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../runtimes/harness.ts";

const examples = readdirSync(join(ROOT, "examples")).filter((d) => existsSync(join(ROOT, "examples", d, "package.json")));

describe.each(examples)("examples/%s/package.json", (name) => {
  it("every script's command is Node or a bin of a declared dependency", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "examples", name, "package.json"), "utf8")) as { scripts?: Record<string, string>; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }));
    // the bins those packages provide, read from the repository's own install of the same packages
    const bins = new Set(["node"]);
    for (const dep of declared) {
      const manifest = join(ROOT, "node_modules", dep, "package.json");
      const bin = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { bin?: string | Record<string, string> }).bin : undefined;
      if (typeof bin === "string") bins.add(dep);
      else for (const b of Object.keys(bin ?? {})) bins.add(b);
      if (!existsSync(manifest)) bins.add(dep); // not installed here (wrangler): its bin has its name
    }
    const commands = Object.entries(pkg.scripts ?? {}).map(([script, line]) => [script, line.split(/\s+/)[0]]);
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.filter(([, cmd]) => !bins.has(cmd))).toEqual([]);
  });
});
