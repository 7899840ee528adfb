/**
 * Option values every command parses the same way, so `--epochs 0` and `--repeats 0` are
 * refused in the same words. Commander turns an InvalidArgumentError into a usage error (exit 2).
 */
import { InvalidArgumentError, Option } from "commander";
import type { OnnxImportOptions } from "../../src/export.js";

/** An integer >= 1 (within the safe range), for counts and sizes. */
export function positiveInt(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(v);
  };
}

/** An integer >= 0, for seeds. */
export function nonNegativeInt(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(v);
  };
}

/** `--dtype f32|f16|int8`: how a bundle stores its weights. */
export function dtypeOption(description: string): Option {
  return new Option("--dtype <dtype>", description).choices(["f32", "f16", "int8"]);
}

/** Repeatable `--flag NAME=VALUE` options, collected in order. */
export function collect(name: string): (v: string, prev: [string, string][] | undefined) => [string, string][] {
  return (v, prev = []) => {
    const at = v.lastIndexOf("=");
    if (at <= 0 || at === v.length - 1) throw new InvalidArgumentError(`${name} takes NAME=VALUE, got ${JSON.stringify(v)}`);
    return [...prev, [v.slice(0, at), v.slice(at + 1)]];
  };
}

/** `--input NAME=1x576` (`?` keeps a dimension as the graph declares it). */
export function parseDims(name: string, v: string): (number | "?")[] {
  const dims = v.split(/[x,]/i).map((d) => (d === "?" ? "?" : /^\d+$/.test(d) && Number(d) >= 1 ? Number(d) : NaN));
  if (dims.some((d) => Number.isNaN(d))) throw new InvalidArgumentError(`--input ${name}: dims must be positive integers or ?, separated by x (e.g. 1x576), got ${JSON.stringify(v)}`);
  return dims as (number | "?")[];
}

/** `--const NAME=16000` or `--const NAME=1,2,3`. */
export function parseConst(name: string, v: string): number | number[] {
  const values = v.split(",").map((x) => (x.trim() === "" ? NaN : Number(x)));
  if (values.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`--const ${name}: expected a number or a comma-separated list, got ${JSON.stringify(v)}`);
  return values.length === 1 && !v.includes(",") ? values[0] : values;
}

/** The ONNX bindings of export and inspect, as given on the command line. */
export interface OnnxBindingFlags {
  input?: [string, string][];
  const?: [string, string][];
  state?: [string, string][];
}

export const onnxInputOption = (): Option => new Option("--input <NAME=D1xD2x...>", "ONNX: the shape of a graph input (repeat per input; ? keeps a dim as declared; the batch dim's value is an example: any batch runs)")
  .argParser(collect("--input"));
export const onnxConstOption = (): Option => new Option("--const <NAME=VALUE>", "ONNX: fold a graph input to a constant, e.g. --const sr=16000 (repeat per input)").argParser(collect("--const"));
export const onnxStateOption = (): Option => new Option("--state <IN=OUT>", "ONNX: a recurrent state pair: the graph reads IN and writes its next value to OUT; sessions carry it (repeat per pair)")
  .argParser(collect("--state"));

/** --input / --const / --state as the importer's options (only those given). */
export function onnxBindings(o: OnnxBindingFlags): Pick<OnnxImportOptions, "inputs" | "constants" | "state"> {
  const out: Pick<OnnxImportOptions, "inputs" | "constants" | "state"> = {};
  if (o.input) out.inputs = Object.fromEntries(o.input.map(([n, v]) => [n, parseDims(n, v)]));
  if (o.const) out.constants = Object.fromEntries(o.const.map(([n, v]) => [n, parseConst(n, v)]));
  if (o.state) out.state = Object.fromEntries(o.state);
  return out;
}

/** A number from `lo` to `hi` (thresholds, durations). */
export function numberIn(name: string, lo: number, hi: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === "" || !(n >= lo && n <= hi)) throw new InvalidArgumentError(`${name} must be a number from ${lo} to ${hi}`);
    return n;
  };
}
